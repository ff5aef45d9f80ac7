"""factory-boy factories for the foundation models (any test may import them)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from chartbusters.challenges.models import Challenge


class ChallengeFactory(factory.django.DjangoModelFactory):
    """An open, published Melody-Go-Round challenge unless told otherwise."""

    class Meta:
        model = Challenge
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"challenge-{n}")
    title = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    description = "## Rules\n\nCompose *something*."
    kind = Challenge.Kind.MELODY_GO_ROUND
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + timedelta(days=31))
    judging_ends_at = factory.LazyAttribute(lambda o: o.closes_at + timedelta(days=15))
    published = True
