"""Segments, tags, offerings and relationships in the admin."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from directory.catalog.search import refresh_search_index
from directory.curation.admin.base import URL_FIELDS_ASSUME_HTTPS
from directory.models import Offering, Record, RecordKind, Relationship, Segment, Source, Tag


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin):
    list_display = ["name_en", "name_zh", "slug", "tier", "order", "parent"]
    list_filter = ["tier"]
    list_select_related = ["parent"]
    search_fields = ["name_en", "name_zh", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name_en"]}
    ordering = ["order", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"name_en", "name_zh"} & set(form.changed_data):
            # Segment names are part of every participant's searchable text in it.
            refresh_search_index(obj.offerings.values_list("participant_id", flat=True).distinct())


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            refresh_search_index(obj.participants.values_list("pk", flat=True))


@admin.register(Offering)
class OfferingAdmin(SimpleHistoryAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ["name", "participant", "segment", "url"]
    list_filter = ["segment__tier", "segment"]
    list_select_related = ["participant", "segment"]
    search_fields = ["name", "description", "participant__name_en", "participant__name_zh"]
    autocomplete_fields = ["participant", "segment"]
    list_per_page = 100

    def save_model(self, request, obj, form, change):
        previous = form.initial.get("participant")
        super().save_model(request, obj, form, change)
        refresh_search_index({obj.participant_id, previous} - {None})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        refresh_search_index([obj.participant_id])

    def delete_queryset(self, request, queryset):
        participant_ids = set(queryset.values_list("participant_id", flat=True))
        super().delete_queryset(request, queryset)
        refresh_search_index(participant_ids)


@admin.register(Relationship)
class RelationshipAdmin(SimpleHistoryAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = [
        "supplier",
        "kind",
        "customer",
        "status",
        "since",
        "until",
        "supplied_segment",
        "customer_segment",
    ]
    list_filter = ["kind", "status", "supplied_segment", "customer_segment"]
    list_select_related = ["supplier", "customer", "supplied_segment", "customer_segment"]
    search_fields = [
        "supplier__name_en",
        "supplier__name_zh",
        "customer__name_en",
        "customer__name_zh",
        "evidence",
        "evidence_zh",
    ]
    autocomplete_fields = ["supplier", "customer", "sources"]
    fieldsets = [
        (None, {"fields": ["supplier", "kind", "customer", "status"]}),
        (gettext_lazy("When"), {"fields": [("since_year", "since_month"), ("until_year", "until_month")]}),
        (gettext_lazy("Where in the chain"), {"fields": ["supplied_segment", "customer_segment"]}),
        (gettext_lazy("Evidence"), {"fields": ["evidence", "evidence_zh", "sources"]}),
        (None, {"fields": ["created_at"]}),
    ]
    readonly_fields = ["created_at"]
    list_per_page = 100


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Sources that links and records cite; a URL only where the page was confirmed."""

    list_display = ["publisher", "title", "published", "url", "checked"]
    search_fields = ["publisher", "title", "url"]
    list_filter = ["publisher"]
    ordering = ["-published"]


class RecordAdminForm(forms.ModelForm):
    """A record needs at least one source (where its fact is published)."""

    class Meta:
        model = Record
        fields = [
            "participant",
            "kind",
            "status",
            "date",
            "end_date",
            "checked",
            "authority",
            "identifier",
            "entity_name",
            "role",
            "notes_en",
            "notes_zh",
            "sources",
        ]

    def clean(self):
        cleaned = super().clean()
        if "sources" in self.fields and not cleaned.get("sources"):
            self.add_error("sources", _("A record needs at least one source."))
        return cleaned


@admin.register(Record)
class RecordAdmin(SimpleHistoryAdmin):
    form = RecordAdminForm
    list_display = ["participant", "kind", "status", "date", "end_date", "identifier", "checked"]
    list_filter = ["kind", "status"]
    list_select_related = ["participant", "kind"]
    search_fields = ["participant__name_en", "participant__name_zh", "identifier", "entity_name"]
    autocomplete_fields = ["participant", "sources"]


@admin.register(RecordKind)
class RecordKindAdmin(SimpleHistoryAdmin):
    list_display = ["name_en", "name_zh", "slug", "jurisdiction", "list_changes", "badge", "order"]
    prepopulated_fields = {"slug": ["name_en"]}
