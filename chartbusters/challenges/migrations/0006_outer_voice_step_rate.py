"""Judge III: the style score gains the outer voices' step rate. A challenge that chose every metric there was (the
default twelve) gets the new one too; a challenge that chose some keeps its choice. Its entries rescore once either
way (the scorer's metrics version changed)."""

from django.db import migrations

TWELVE = {"pitch_range", "n_pitches_used", "n_pitch_classes_used", "polyphony", "polyphony_rate",
          "pitch_in_scale_rate", "scale_consistency", "pitch_entropy", "pitch_class_entropy", "empty_beat_rate",
          "groove_consistency", "empty_measure_rate"}  # frozen here: a migration must not follow later code
NEW = "outer_voice_step_rate"


def add_to_every_metric_challenges(apps, schema_editor):
    Challenge = apps.get_model("challenges", "Challenge")
    for challenge in Challenge.objects.all():
        if isinstance(challenge.metrics, list) and set(challenge.metrics) == TWELVE:
            challenge.metrics = [*challenge.metrics, NEW]
            challenge.save(update_fields=["metrics"])


def remove_again(apps, schema_editor):
    Challenge = apps.get_model("challenges", "Challenge")
    for challenge in Challenge.objects.all():
        if isinstance(challenge.metrics, list) and NEW in challenge.metrics:
            challenge.metrics = [m for m in challenge.metrics if m != NEW]
            challenge.save(update_fields=["metrics"])


class Migration(migrations.Migration):
    dependencies = [("challenges", "0005_generation_params_by_architecture")]

    operations = [migrations.RunPython(add_to_every_metric_challenges, remove_again)]
