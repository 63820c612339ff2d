"""Segments, tags, offerings and relationships in the admin."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from directory.catalog.search import refresh_search_index
from directory.curation.admin.base import URL_FIELDS_ASSUME_HTTPS
from directory.models import Offering, Relationship, Segment, Tag


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
    list_display = ["supplier", "kind", "customer", "evidence_url", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["supplier", "customer"]
    search_fields = [
        "supplier__name_en",
        "supplier__name_zh",
        "customer__name_en",
        "customer__name_zh",
        "evidence",
    ]
    autocomplete_fields = ["supplier", "customer"]
    readonly_fields = ["created_at"]
    list_per_page = 100
