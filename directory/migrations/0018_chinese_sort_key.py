"""The Chinese "A–Z" key of every participant (pinyin of its Chinese name), stored so
that both databases order it the same way."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from directory.models import chinese_sort_key

    Participant = apps.get_model("directory", "Participant")
    batch = []
    for p in (
        Participant.objects.using(schema_editor.connection.alias)
        .only("pk", "name_en", "name_zh")
        .iterator(chunk_size=2000)
    ):
        p.name_sort_zh = chinese_sort_key(p.name_zh, p.name_en)
        batch.append(p)
        if len(batch) == 2000:
            Participant.objects.using(schema_editor.connection.alias).bulk_update(batch, ["name_sort_zh"])
            batch = []
    Participant.objects.using(schema_editor.connection.alias).bulk_update(batch, ["name_sort_zh"])


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0017_link_segments_default"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalparticipant",
            name="name_sort_zh",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="participant",
            name="name_sort_zh",
            field=models.CharField(blank=True, default="", editable=False, max_length=200),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="participant",
            index=models.Index(fields=["status", "name_sort_zh", "id"], name="participant_status_sort_zh"),
        ),
    ]
