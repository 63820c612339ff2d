"""The participant filters of the URL contract, shared by the HTML listing and the API."""

from functools import cached_property
from types import SimpleNamespace

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .caching import kept_in_process
from .countries import COUNTRIES
from .models import Kind, Offering, Participant, Segment, Tier
from .search import clean_query, search, search_window


def all_segments():
    """Every segment with its parent, in model order: kept in this process for the
    directory's current generation (any change to a segment starts a new one), so a page
    does not query them. Callers must not modify the instances."""
    return kept_in_process("segments", lambda: list(Segment.objects.select_related("parent")))


OPEN_SOURCE_CHOICES = [
    ("yes", _("Open source")),
    ("partly", _("Partly open source")),
    ("no", _("Closed source")),
    ("true", _("Open or partly open")),
    ("false", _("Closed source")),
]
OPEN_SOURCE_VALUES = {
    "yes": ["yes"],
    "partly": ["partly"],
    "no": ["no"],
    "true": ["yes", "partly"],
    "false": ["no"],
}
ORDERING_CHOICES = [
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("founded", _("Oldest first")),
    ("-founded", _("Newest first")),
    ("-updated", _("Recently updated")),
]
ORDERING_FIELDS = {
    "name": ["name_en", "pk"],
    "-name": ["-name_en", "-pk"],
    "founded": ["founded", "name_en", "pk"],
    "-founded": ["-founded", "name_en", "pk"],
    "-updated": ["-updated_at", "-pk"],
}


def in_segments(segment_ids):
    """Participants with an offering in any of the segments (an EXISTS, so no duplicates)."""
    return Exists(Offering.objects.filter(participant=OuterRef("pk"), segment_id__in=segment_ids))


class CountryField(forms.CharField):
    """An ISO 3166-1 alpha-2 code (any case). A ChoiceField of the 249 codes would be deep
    copied with its choices for every filter form built, several times per request."""

    def clean(self, value):
        value = super().clean(value).upper()
        if value and value not in COUNTRIES:
            raise forms.ValidationError(
                forms.ChoiceField.default_error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return value


class CountryFilter(django_filters.Filter):
    field_class = CountryField


def _kept(choices):
    """``choices`` behind a function. django-filter deep-copies every filter, and Django
    every form field, with its choices, for each filterset and form built (a few times a
    request); a function they keep as it is, and Django reads the choices from it. A
    bound filterset with its form: 0.67 -> 0.58 ms."""
    return lambda: choices


class ParticipantFilter(django_filters.FilterSet):
    """``q``, ``tier``, ``segment`` (repeatable, any of), ``kind``, ``country``,
    ``open_source`` and ``ordering`` exactly as DESIGN.md names them."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    tier = django_filters.ChoiceFilter(choices=_kept(Tier.choices), method="filter_tier", label=_("Tier"))
    segment = django_filters.MultipleChoiceFilter(
        choices=_kept([]), method="filter_segment", label=_("Segment")
    )
    kind = django_filters.ChoiceFilter(choices=_kept(Kind.choices), label=_("Kind"))
    country = CountryFilter(method="filter_country", label=_("Country"))
    open_source = django_filters.ChoiceFilter(
        choices=_kept(OPEN_SOURCE_CHOICES), method="filter_open_source", label=_("Open source")
    )
    ordering = django_filters.ChoiceFilter(
        choices=_kept(ORDERING_CHOICES),
        method="filter_ordering",
        label=_("Order by"),
        empty_label=_("Relevance / name"),
    )

    class Meta:
        model = Participant
        fields = ["q", "tier", "segment", "kind", "country", "open_source", "ordering"]

    # Pages and the API search within a window of matches; the CSV export, which streams,
    # takes every match (set False before reading ``qs``).
    windowed = True

    def __init__(self, data=None, *args, segments=None, **kwargs):
        """``segments``: the list of all segments when the caller already has it (saves
        the query when several filtersets are built for one request, as facets do)."""
        if data is not None and "country" in data:
            data = data.copy()
            data["country"] = data.get("country", "").upper()
        super().__init__(data, *args, **kwargs)
        self.segments = all_segments() if segments is None else segments
        self.filters["segment"].extra["choices"] = _kept([(s.slug, s.name) for s in self.segments])

    # django-filter builds a new form class for every filterset; ours only differs by the
    # segment choices (and their labels' language), so one class is kept per such set.
    _form_classes = {}

    def get_form_class(self):
        key = (tuple((s.slug, s.name) for s in self.segments), get_language())
        form_class = self._form_classes.get(key)
        if form_class is None:
            if len(self._form_classes) > 64:  # segments renamed many times over: start afresh
                self._form_classes.clear()
            form_class = self._form_classes[key] = super().get_form_class()
        return form_class

    def filter_q(self, queryset, name, value):
        # Applied in ``qs`` below, after every other filter: the search window is taken
        # from the participants the other filters leave.
        return queryset

    def filter_tier(self, queryset, name, value):
        ids = [s.pk for s in self.segments if s.tier == value]
        return queryset.filter(in_segments(ids))

    def filter_segment(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(in_segments(segment_ids_with_children(self.segments, value)))

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value)

    def filter_open_source(self, queryset, name, value):
        return queryset.filter(open_source__in=OPEN_SOURCE_VALUES[value])

    def filter_ordering(self, queryset, name, value):
        # Applied in ``qs`` below, after search, so rank ordering can be the default.
        return queryset

    @property
    def qs(self):
        """The filtered participants in the requested order. With ``q``: only the search
        window (``search.search_window``, one query), described by ``search_ids``,
        ``search_truncated`` and ``ranked_ids`` below, which take the window without
        building this queryset (its filter on up to 1,000 ids costs more than the rest
        of a cached page's filtering)."""
        if not hasattr(self, "_ordered_qs"):
            window = self._window
            queryset, q = window.queryset, window.q
            if window.ids is not None:
                queryset = search(queryset.filter(pk__in=window.ids), q)
            elif q:
                queryset = search(queryset, q)
            if window.ordering:
                queryset = queryset.order_by(*ORDERING_FIELDS[window.ordering])
            elif q:
                queryset = queryset.order_by("-search_rank", "name_en", "pk")
            else:
                queryset = queryset.order_by(*ORDERING_FIELDS["name"])
            self._ordered_qs = queryset
        return self._ordered_qs

    @cached_property
    def _window(self):
        """The filter before search and ordering, the cleaned query and ordering, and the
        search window's ids and whether it was cut (None and False without a windowed
        search)."""
        queryset = super().qs
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        q = clean_query(data.get("q") or "")
        ids, truncated = search_window(queryset, q) if q and self.windowed else (None, False)
        return SimpleNamespace(
            queryset=queryset, q=q, ordering=data.get("ordering"), ids=ids, truncated=truncated
        )

    @property
    def search_ids(self):
        """The search window's ids, best first; None without a (windowed) search."""
        return self._window.ids

    @property
    def search_truncated(self):
        """Whether more participants matched than the window holds."""
        return self._window.truncated

    @property
    def ranked_ids(self):
        """``search_ids`` when the results come in relevance order, else None."""
        return None if self._window.ordering else self._window.ids


def segment_ids_with_children(segments, slugs):
    """Ids of the segments named by ``slugs`` and of their sub-segments (``segments``
    is the list of all segments)."""
    chosen = {s.pk for s in segments if s.slug in set(slugs)}
    return sorted(chosen | {s.pk for s in segments if s.parent_id in chosen})


def lenient_filterset(data, queryset=None, segments=None):
    """A bound ``ParticipantFilter`` for a public page, and the notes about what it ignored.

    django-filter drops an invalid field as a whole; a repeated ``segment`` with one
    unknown slug would then lose the good slugs too. So unknown segment slugs are removed
    one by one and the other invalid parameters dropped, and the filterset is bound again
    to the cleaned data: what the form shows is exactly what filters the results.
    Returns ``(filterset, notes)`` where each note is ``(parameter, message)``.
    """
    segments = all_segments() if segments is None else segments
    filterset = ParticipantFilter(data, queryset=queryset, segments=segments)
    if filterset.is_valid():
        return filterset, []
    data = data.copy()
    notes = []
    known = {s.slug for s in segments}
    for name, errors in filterset.errors.items():
        if name == "segment":
            values = data.getlist("segment")
            data.setlist("segment", [v for v in values if v in known])
            notes.extend(
                (name, _("Unknown segment “%(value)s” ignored.") % {"value": v[:60]})
                for v in values
                if v not in known
            )
        else:
            data.pop(name, None)
            message = str(errors[0])[:200]
            notes.append(
                (name, _("Parameter “%(name)s” ignored: %(error)s") % {"name": name, "error": message})
            )
    return ParticipantFilter(data, queryset=queryset, segments=segments), notes
