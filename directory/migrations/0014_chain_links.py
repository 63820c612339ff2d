"""Links with time, status, segments and sources (issue: the chain, modelled and shown).

Today's links are kept: ``partner`` becomes ``partnership`` (investments among them are
re-typed by the seed data), every link is ``active``, its supplied and customer segments
are each side's first segment in chain order, and an evidence URL becomes a ``Source``
(publisher: the site; the date it was recorded as the date checked; no publication date,
which nobody recorded)."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

import directory.models

TIERS = ["upstream", "midstream", "downstream"]


def convert_links(apps, schema_editor):
    from urllib.parse import urlsplit

    Relationship = apps.get_model("directory", "Relationship")
    Offering = apps.get_model("directory", "Offering")
    Source = apps.get_model("directory", "Source")
    db = schema_editor.connection.alias  # the database being migrated, not the router's choice
    first_segment = {}
    rows = Offering.objects.using(db).values_list(
        "participant_id", "segment_id", "segment__tier", "segment__order", "segment__slug"
    )
    for participant_id, segment_id, tier, order, slug in rows:
        key = (TIERS.index(tier), order, slug)
        if participant_id not in first_segment or key < first_segment[participant_id][0]:
            first_segment[participant_id] = (key, segment_id)
    for link in Relationship.objects.using(db).all():
        if link.kind == "partner":
            link.kind = "partnership"
        link.status = "active"
        link.supplied_segment_id = first_segment.get(link.supplier_id, (None, None))[1]
        link.customer_segment_id = first_segment.get(link.customer_id, (None, None))[1]
        link.save(using=db)
        if link.evidence_url:
            host = (urlsplit(link.evidence_url).hostname or "").removeprefix("www.")
            source, _ = Source.objects.using(db).get_or_create(
                publisher=host or link.evidence_url[:200],
                title="[page cited as evidence]",
                published="",
                url=link.evidence_url,
                defaults={"checked": link.created_at.date()},
            )
            link.sources.add(source)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0013_website_site"),
    ]

    operations = [
        migrations.CreateModel(
            name="Source",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "publisher",
                    models.CharField(
                        max_length=200,
                        validators=[directory.models.no_list_separator],
                        verbose_name="publisher",
                    ),
                ),
                (
                    "title",
                    models.CharField(
                        max_length=500, validators=[directory.models.no_list_separator], verbose_name="title"
                    ),
                ),
                (
                    "published",
                    models.CharField(
                        help_text="YYYY, YYYY-MM or YYYY-MM-DD",
                        max_length=10,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^\\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\\d|3[01]))?)?$",
                                "Enter a date as YYYY, YYYY-MM or YYYY-MM-DD.",
                            )
                        ],
                        verbose_name="date published",
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        blank=True, max_length=500, validators=[directory.models.http_url], verbose_name="URL"
                    ),
                ),
                ("checked", models.DateField(blank=True, null=True, verbose_name="date checked")),
            ],
            options={
                "verbose_name": "source",
                "verbose_name_plural": "sources",
                "ordering": ["-published", "publisher"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="relationship",
            name="relationship_kind_valid",
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="customer_segment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Where the customer uses it: one of the customer's segments.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="directory.segment",
                verbose_name="customer segment",
            ),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="event",
            field=models.CharField(
                blank=True,
                choices=[("new", "new link"), ("status", "status changed"), ("ended", "link ended")],
                editable=False,
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="event_date",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="evidence_zh",
            field=models.TextField(blank=True, max_length=1000, verbose_name="evidence (Chinese)"),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="since_month",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="since (month)"),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="since_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="since (year)"),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="status",
            field=models.CharField(
                choices=[("planned", "planned"), ("active", "active"), ("ended", "ended")],
                default="active",
                max_length=8,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="supplied_segment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="What is supplied: one of the supplier's segments.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="directory.segment",
                verbose_name="supplied segment",
            ),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="until_month",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="until (month)"),
        ),
        migrations.AddField(
            model_name="historicalrelationship",
            name="until_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="until (year)"),
        ),
        migrations.AddField(
            model_name="relationship",
            name="customer_segment",
            field=models.ForeignKey(
                help_text="Where the customer uses it: one of the customer's segments.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="customer_links",
                to="directory.segment",
                verbose_name="customer segment",
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="event",
            field=models.CharField(
                blank=True,
                choices=[("new", "new link"), ("status", "status changed"), ("ended", "link ended")],
                editable=False,
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="event_date",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="relationship",
            name="evidence_zh",
            field=models.TextField(blank=True, max_length=1000, verbose_name="evidence (Chinese)"),
        ),
        migrations.AddField(
            model_name="relationship",
            name="since_month",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="since (month)"),
        ),
        migrations.AddField(
            model_name="relationship",
            name="since_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="since (year)"),
        ),
        migrations.AddField(
            model_name="relationship",
            name="status",
            field=models.CharField(
                choices=[("planned", "planned"), ("active", "active"), ("ended", "ended")],
                default="active",
                max_length=8,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="supplied_segment",
            field=models.ForeignKey(
                help_text="What is supplied: one of the supplier's segments.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="supplied_links",
                to="directory.segment",
                verbose_name="supplied segment",
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="until_month",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="until (month)"),
        ),
        migrations.AddField(
            model_name="relationship",
            name="until_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="until (year)"),
        ),
        migrations.AlterField(
            model_name="historicalrelationship",
            name="evidence",
            field=models.TextField(blank=True, max_length=1000, verbose_name="evidence (English)"),
        ),
        migrations.AlterField(
            model_name="historicalrelationship",
            name="kind",
            field=models.CharField(
                choices=[
                    ("energy", "supplies power to"),
                    ("chips", "supplies chips to"),
                    ("hardware", "supplies hardware to"),
                    ("compute", "supplies compute to"),
                    ("model", "supplies its model to"),
                    ("data", "supplies data to"),
                    ("software", "supplies software to"),
                    ("service", "supplies services to"),
                    ("investment", "invests in"),
                    ("partnership", "partner of"),
                ],
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="relationship",
            name="evidence",
            field=models.TextField(blank=True, max_length=1000, verbose_name="evidence (English)"),
        ),
        migrations.AlterField(
            model_name="relationship",
            name="kind",
            field=models.CharField(
                choices=[
                    ("energy", "supplies power to"),
                    ("chips", "supplies chips to"),
                    ("hardware", "supplies hardware to"),
                    ("compute", "supplies compute to"),
                    ("model", "supplies its model to"),
                    ("data", "supplies data to"),
                    ("software", "supplies software to"),
                    ("service", "supplies services to"),
                    ("investment", "invests in"),
                    ("partnership", "partner of"),
                ],
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="source",
            constraint=models.UniqueConstraint(
                fields=("publisher", "title", "published", "url"), name="source_unique"
            ),
        ),
        migrations.AddField(
            model_name="relationship",
            name="sources",
            field=models.ManyToManyField(
                blank=True, related_name="relationships", to="directory.source", verbose_name="sources"
            ),
        ),
        migrations.AddIndex(
            model_name="relationship",
            index=models.Index(fields=["status", "kind"], name="relationship_status_kind"),
        ),
        migrations.AddIndex(
            model_name="relationship",
            index=models.Index(fields=["since_year"], name="relationship_since"),
        ),
        migrations.RunPython(convert_links, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="relationship",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "energy",
                            "chips",
                            "hardware",
                            "compute",
                            "model",
                            "data",
                            "software",
                            "service",
                            "investment",
                            "partnership",
                        ],
                    )
                ),
                name="relationship_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="relationship",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["planned", "active", "ended"])),
                name="relationship_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="relationship",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("since_month__isnull", True),
                    models.Q(("since_month__gte", 1), ("since_month__lte", 12)),
                    _connector="OR",
                ),
                name="relationship_since_month",
            ),
        ),
        migrations.AddConstraint(
            model_name="relationship",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("until_month__isnull", True),
                    models.Q(("until_month__gte", 1), ("until_month__lte", 12)),
                    _connector="OR",
                ),
                name="relationship_until_month",
            ),
        ),
        migrations.RemoveField(
            model_name="historicalrelationship",
            name="created_at",
        ),
        migrations.RemoveField(
            model_name="historicalrelationship",
            name="evidence_url",
        ),
        migrations.RemoveField(
            model_name="relationship",
            name="evidence_url",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS historicalrelationship_event "
            "ON directory_historicalrelationship (event, event_date)",
            "DROP INDEX IF EXISTS historicalrelationship_event",
        ),
    ]
