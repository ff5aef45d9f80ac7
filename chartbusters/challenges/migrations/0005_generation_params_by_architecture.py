"""Melody Harvest's generation_params keyed by architecture: {"arcnn": {...}, "gan": {...}}. A stored flat mapping
(one set of parameters for every architecture) moves under each architecture whose parameters include all its names:
{"iterations": 60} -> {"arcnn": {"iterations": 60}} (the GAN has no iterations: those entries failed before), and
{"seed": 1} -> under every architecture."""

from django.db import migrations, models

import chartbusters.challenges.models


def by_architecture(params: dict) -> dict:
    from generation.engine.registry import generator_names, get_generator_spec

    names = list(generator_names())
    if not params or all(key in names and isinstance(value, dict) for key, value in params.items()):
        return params  # already keyed by architecture (or empty)
    keyed = {}
    for name in names:
        known = {spec.name for spec in get_generator_spec(name).PARAMS}
        if set(params) <= known:
            keyed[name] = dict(params)
    return keyed


def forwards(apps, schema_editor):
    Challenge = apps.get_model("challenges", "Challenge")
    for challenge in Challenge.objects.exclude(generation_params={}):
        keyed = by_architecture(challenge.generation_params or {})
        if keyed != challenge.generation_params:
            Challenge.objects.filter(pk=challenge.pk).update(generation_params=keyed)


class Migration(migrations.Migration):

    dependencies = [
        ("challenges", "0004_inputmelody_role"),
    ]

    operations = [
        migrations.AlterField(
            model_name="challenge",
            name="generation_params",
            field=models.JSONField(
                blank=True, default=chartbusters.challenges.models.default_generation_params,
                help_text='Melody Harvest: the parameters the platform runs entrants\' checkpoints with, per '
                          'architecture, e.g. {"arcnn": {"iterations": 60}, "gan": {"seed": 1}}; each checked '
                          "against that model's parameters.",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
