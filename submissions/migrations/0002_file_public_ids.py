"""Random public ids that name file URLs (/files/<kind>/<uuid>/); original upload names.

Existing rows get a fresh uuid each (added nullable, filled, then made unique); stored files keep their old names.
"""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    for model_name in ("composition", "submission", "submissionoutput"):
        model = apps.get_model("submissions", model_name)
        for pk in model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="composition",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="submissionoutput",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="composition",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names its file URL.", unique=True),
        ),
        migrations.AlterField(
            model_name="submission",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names its file URLs.", unique=True),
        ),
        migrations.AlterField(
            model_name="submissionoutput",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names its file URLs.", unique=True),
        ),
        migrations.AddField(
            model_name="composition",
            name="original_filename",
            field=models.CharField(blank=True, help_text="As uploaded; shown to the owner.", max_length=255),
        ),
        migrations.AddField(
            model_name="submission",
            name="original_filename",
            field=models.CharField(
                blank=True, help_text="The uploaded MIDI's name; its entrant and organizers only.", max_length=255
            ),
        ),
        migrations.AlterField(
            model_name="submissionoutput",
            name="input_name",
            field=models.CharField(help_text="The hidden input's name: organizers only.", max_length=200),
        ),
    ]
