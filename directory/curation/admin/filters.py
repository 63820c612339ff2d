"""Changelist filters the model fields alone do not give."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from directory.models import Offering, Segment, SubmissionStatus, Tier


class TierFilter(admin.SimpleListFilter):
    """Participants with an offering in a segment of the chosen tier."""

    title = _("tier")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return Tier.choices

    def queryset(self, request, queryset):
        if self.value() in Tier.values:
            # Exists, not a join: a participant with two offerings in the tier is listed once.
            offerings = Offering.objects.filter(participant=OuterRef("pk"), segment__tier=self.value())
            return queryset.filter(Exists(offerings))
        return queryset


class SegmentFilter(admin.SimpleListFilter):
    """Participants with an offering in the chosen segment."""

    title = _("segment")
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return [(s.slug, s.name) for s in Segment.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            offerings = Offering.objects.filter(participant=OuterRef("pk"), segment__slug=self.value())
            return queryset.filter(Exists(offerings))
        return queryset


class VerifiedAgeFilter(admin.SimpleListFilter):
    """How long ago a participant was last verified."""

    title = _("last verified")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [
            ("90d", _("In the last 90 days")),
            ("1y", _("In the last year")),
            ("stale", _("More than a year ago")),
            ("never", _("Never")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        value = self.value()
        if value == "90d":
            return queryset.filter(last_verified__gte=today - timedelta(days=90))
        if value == "1y":
            return queryset.filter(last_verified__gte=today - timedelta(days=365))
        if value == "stale":
            return queryset.filter(last_verified__lt=today - timedelta(days=365))
        if value == "never":
            return queryset.filter(last_verified__isnull=True)
        return queryset


class SubmissionStatusFilter(admin.SimpleListFilter):
    """Submission status; with no choice made the queue shows pending submissions."""

    title = _("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return SubmissionStatus.choices

    def value(self):
        return super().value() or SubmissionStatus.PENDING

    def choices(self, changelist):
        yield {
            "selected": self.value() == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() in SubmissionStatus.values:
            return queryset.filter(status=self.value())
        return queryset
