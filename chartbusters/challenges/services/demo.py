"""The demo data of ``manage.py seed_demo`` (docs/design.md section 7): two open challenges and one user per role.

Idempotent: running it again resets the demo users' passwords and the challenges' dates and texts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chartbusters.accounts.roles import Role
from chartbusters.accounts.services import roles_ensure_groups, user_add_role
from chartbusters.challenges.models import Challenge, InputMelody
from chartbusters.challenges.services.bundles import BundleResult, bundle_parse, challenge_upsert_from_bundle

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_INPUTS = ["chorale-r010-soprano.mid", "chorale-r020-soprano.mid", "chorale-r030-soprano.mid"]
# Public example inputs of the Melody Harvest challenge (entrants hear their model on these while it is open): a
# G major waltz in 3/4 and a D dorian jig in 6/8, written note by note for the demo.
DEMO_EXAMPLE_INPUTS = ["example-waltz-g-major-3-4.mid", "example-jig-d-dorian-6-8.mid"]
DEMO_USERS = {"entrant": Role.ENTRANT, "judge": Role.JUDGE, "organizer": Role.ORGANIZER}
DEFAULT_DEMO_PASSWORD = "chartbusters"

MELODY_GO_ROUND_DESCRIPTION = """\
Write a four-part chorale in the style of J. S. Bach, or make one with the platform's models, and submit it
as a MIDI file.

## How it works
1. Open the [studio](/studio/): play a melody on the on-screen or computer keyboard (or upload a MIDI file, or
   pick a sample), hear it, and let a model work on it: the **AR-CNN** fills in and edits notes, the **GAN**
   writes an accompaniment, the **Transformer** continues your melody. Listen to every version, keep the one you
   like and save it to [My compositions](/compositions/). New to the models? [Learn how they work](/learn/).
2. Submit it from My compositions in one click (or upload a MIDI file on this page). Each entry is scored
   automatically within a minute: a **style** score (how close its musical statistics are to the reference
   chorales) and a **realness** score (how real a trained discriminator thinks it is).
3. After the challenge closes, the judges listen to the best entries and score them blind; the final score
   mixes their scores with the automatic one.

Prefer the command line? `python manage.py generate arcnn melody.mid -o edited.mid` (or `gan`, `transformer`)
does what the studio does.

## Rules
- Entries are MIDI files of at most 2 MiB, 10 minutes and 20,000 notes.
- Entries that share more than two bars with a chorale of the training data, or with an earlier entry, are
  flagged for the organizers as possible copies, and may be disqualified.
- By submitting you license your entry under CC BY 4.0.
"""

MELODY_HARVEST_DESCRIPTION = """\
Train a model that writes music around a melody, and submit its **checkpoint**. The platform runs your model on
three hidden soprano melodies and scores what it writes.

## How it works
1. Train a model on the [Train](/train/) page: choose the AR-CNN, the GAN or the Transformer, upload MIDI files
   of your own (or use the Bach chorales), and watch its losses while it learns. [Learn](/learn/) explains what
   the curves mean. (`python manage.py train arcnn --data MY_MIDI_FOLDER` does the same from the command line.)
2. Submit it from [My models](/models/) in one click (or upload `model.safetensors` and its `config.json` on
   this page). It is checked before anything runs: only safetensors files whose tensors match the declared
   architecture are accepted.
3. Your model works on each hidden melody with the challenge's parameters, within one minute each. The
   outputs are scored like Melody-Go-Round entries and your score is their mean; you can listen to them.

## Rules
- One checkpoint at most 200 MiB; the architecture is one of the platform's generators (`arcnn`, `gan`,
  `transformer`).
- The hidden melodies stay hidden until the challenge closes.
- A checkpoint that fails to run on the platform's side does not count against your quota.
"""


# Other apps add to the demo without chartbusters importing them (docs/design.md §2): ``register_demo_extra("judging",
# fn)`` from their AppConfig.ready(); ``seed_demo`` calls ``fn(password=...)`` after the challenges and users, and
# prints what it returns (a sentence).
_DEMO_EXTRAS: dict[str, Callable[..., str]] = {}


def register_demo_extra(name: str, fn: Callable[..., str]) -> None:
    _DEMO_EXTRAS[name] = fn


def demo_extras() -> dict[str, Callable[..., str]]:
    return dict(_DEMO_EXTRAS)


@dataclass(frozen=True)
class DemoResult:
    password: str
    users: list[str]
    challenges: list[BundleResult]


def _demo_challenges(now: datetime) -> list[dict]:
    dates = {
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "judging_ends_at": now + timedelta(days=45),
    }
    return [
        {
            "slug": "melody-go-round", "title": "Melody-Go-Round: a chorale for the winter",
            "kind": "melody-go-round", "description": MELODY_GO_ROUND_DESCRIPTION, **dates,
            "daily_quota": 5, "total_quota": 50, "alpha": 0.5, "published": True,
            "judges": ["judge"], "organizers": ["organizer"],
        },
        {
            "slug": "melody-harvest", "title": "Melody Harvest: accompany the hidden melodies",
            "kind": "melody-harvest", "description": MELODY_HARVEST_DESCRIPTION, **dates,
            "daily_quota": 3, "total_quota": 20, "alpha": 0.3, "published": True,
            "generation_params": {}, "generation_time_limit_seconds": 60,
            "judges": ["judge"], "organizers": ["organizer"], "input_melodies": DEMO_INPUTS,
        },
    ]


def _add_example_inputs(challenge: Challenge) -> None:
    """The bundle's inputs are hidden; the examples are added beside them (the bundle's file sync removes them)."""
    for name in DEMO_EXAMPLE_INPUTS:
        if not challenge.input_melodies.filter(name=name).exists():
            InputMelody.objects.create(challenge=challenge, name=name, role=InputMelody.Role.EXAMPLE,
                                       midi=ContentFile((DEMO_DIR / name).read_bytes(), name=name))


@transaction.atomic
def demo_seed(*, password: str = DEFAULT_DEMO_PASSWORD, now: datetime | None = None) -> DemoResult:
    """Create or refresh the demo users (one per role) and the two demo challenges, open now."""
    roles_ensure_groups()
    user_model = get_user_model()
    for username, role in DEMO_USERS.items():
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.set_password(password)
        user.save()
        user_add_role(user=user, role=role)
    results = [
        challenge_upsert_from_bundle(bundle=bundle_parse(data, base_dir=DEMO_DIR))
        for data in _demo_challenges(now or timezone.now())
    ]
    _add_example_inputs(Challenge.objects.get(slug="melody-harvest"))
    return DemoResult(password=password, users=list(DEMO_USERS), challenges=results)
