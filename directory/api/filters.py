"""The filters of /api/relationships/ (django-filter): the links' own fields and either
side's country. Unknown values are a 400 naming the parameter, as everywhere in the API."""

import django_filters
from django import forms
from django.db.models import Q

from directory import catalog
from directory.countries import COUNTRIES
from directory.models import (
    LinkStatus,
    Record,
    RecordKind,
    RecordStatus,
    Relationship,
    RelationshipKind,
    Segment,
)


class YearFilter(django_filters.Filter):
    """A whole year (``2024``) within what the model stores; anything else is a 400."""

    field_class = forms.RegexField

    def __init__(self, *args, **kwargs):
        # Digits only: Django's IntegerField would take "2024.0" too.
        super().__init__(*args, regex=r"^[0-9]{1,4}$", **kwargs)


def _with_children(queryset, field, segment):
    # By ids (the segment's and its sub-segments'): the column's index, no join.
    return queryset.filter(**{f"{field}_id__in": catalog.segment_ids(segment)})


class RelationshipFilter(django_filters.FilterSet):
    supplier = django_filters.CharFilter(field_name="supplier__slug", help_text="The supplier's slug.")
    customer = django_filters.CharFilter(field_name="customer__slug", help_text="The customer's slug.")
    kind = django_filters.ChoiceFilter(choices=RelationshipKind.choices)
    status = django_filters.ChoiceFilter(choices=LinkStatus.choices)
    supplied_segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(),
        to_field_name="slug",
        method="filter_supplied",
        help_text="What is supplied: a segment slug, sub-segments included.",
    )
    customer_segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(),
        to_field_name="slug",
        method="filter_received",
        help_text="Where the customer uses it: a segment slug, sub-segments included.",
    )
    since_from = YearFilter(
        field_name="since_year", lookup_expr="gte", help_text="Started in or after this year."
    )
    since_to = YearFilter(
        field_name="since_year", lookup_expr="lte", help_text="Started in or before this year."
    )
    country = django_filters.ChoiceFilter(
        choices=sorted((code, code) for code in COUNTRIES),
        method="filter_country",
        help_text="ISO 3166-1 alpha-2 of either side's headquarters.",
    )

    class Meta:
        model = Relationship
        fields = []

    def filter_supplied(self, queryset, name, value):
        return _with_children(queryset, "supplied_segment", value)

    def filter_received(self, queryset, name, value):
        return _with_children(queryset, "customer_segment", value)

    def filter_country(self, queryset, name, value):
        return queryset.filter(Q(supplier__country=value) | Q(customer__country=value))


class RecordFilter(django_filters.FilterSet):
    participant = django_filters.CharFilter(
        field_name="participant__slug", help_text="The participant's slug."
    )
    kind = django_filters.ModelChoiceFilter(
        queryset=RecordKind.objects.all(), to_field_name="slug", help_text="A kind of record (its slug)."
    )
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices)
    country = django_filters.ChoiceFilter(
        field_name="participant__country",
        choices=sorted((code, code) for code in COUNTRIES),
        help_text="ISO 3166-1 alpha-2 of the participant's headquarters.",
    )
    segment = django_filters.ModelChoiceFilter(
        queryset=Segment.objects.all(),
        to_field_name="slug",
        field_name="participant__offerings__segment",
        method="filter_segment",
        help_text="Participants with an offering in this segment, sub-segments included.",
    )

    class Meta:
        model = Record
        fields = []

    def filter_segment(self, queryset, name, value):
        return _with_children(queryset, "participant__offerings__segment", value).distinct()
