"""Random public ids that name file URLs (/files/<kind>/<uuid>/).

Existing rows get a fresh uuid each (added nullable, filled, then made unique); stored files keep their old names.
"""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    for model_name in ("inputmelody", "referencefile"):
        model = apps.get_model("challenges", model_name)
        for pk in model.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0002_worker_ping"),
    ]

    operations = [
        migrations.AddField(
            model_name="inputmelody",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="referencefile",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="inputmelody",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names its file URL.", unique=True),
        ),
        migrations.AlterField(
            model_name="referencefile",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names its file URL.", unique=True),
        ),
    ]
