"""``website_domain`` holds the site that tells one organisation's website from another's
(``urls_util.site_of``: on github.com or huggingface.co the organisation's path too), which
the one "same organisation" rule compares (directory/curation/matching.py)."""

from django.db import migrations, models

from directory.urls_util import site_of


def recompute(apps, schema_editor):
    Participant = apps.get_model("directory", "Participant")
    changed = []
    for participant in (
        Participant.objects.using(schema_editor.connection.alias)
        .only("pk", "website", "website_domain")
        .iterator(chunk_size=2000)
    ):
        site = site_of(participant.website)
        if site != participant.website_domain:
            participant.website_domain = site
            changed.append(participant)
    Participant.objects.using(schema_editor.connection.alias).bulk_update(
        changed, ["website_domain"], batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0012_sqlite_fts5_search")]

    operations = [
        migrations.AlterField(
            model_name="participant",
            name="website_domain",
            field=models.CharField(blank=True, editable=False, max_length=300, verbose_name="website domain"),
        ),
        migrations.AlterField(
            model_name="historicalparticipant",
            name="website_domain",
            field=models.CharField(blank=True, editable=False, max_length=300, verbose_name="website domain"),
        ),
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
