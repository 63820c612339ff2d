"""What a listing asks for: the filters of the URL contract, each defined once.

A filter is one class below with everything about it side by side: its GET parameter,
how a value is parsed (and the note shown when a page ignores a bad one), its meaning in
SQL (``condition``), its meaning for the in-memory index (``bits``), and its facet
options. ``FILTERS`` lists them; the HTML listing, the segment pages, the API and the CSV
export all parse their parameters into the same ``Criteria`` with ``Criteria.parse``.
Adding a filter is one more class in ``FILTERS`` (docs/architecture.md has an example).

The segments (``Taxonomy``) hold the rules every filter and view shares: which segments
a slug stands for (its sub-segments included) and which make up a tier.
"""

from dataclasses import dataclass, field, replace
from functools import cached_property

from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.catalog.cache import kept_in_process
from directory.catalog.search import MAX_QUERY_LENGTH
from directory.countries import COUNTRIES, country_name
from directory.models import (
    TIER_ORDER,
    Kind,
    Offering,
    OpenSource,
    Record,
    RecordKind,
    Segment,
    Tier,
    in_chain_order,
    prefers_chinese,
)


class Taxonomy:
    """Every segment, with the chain's rules about them. Kept per process until the
    directory changes (``taxonomy()``); callers must not modify the instances."""

    def __init__(self, segments, record_kinds=()):
        self.segments = segments  # in model order, each with its parent
        self.by_slug = {s.slug: s for s in segments}
        self.by_id = {s.pk: s for s in segments}
        self.record_kinds = list(record_kinds)  # in their order
        self.record_kind = {k.slug: k for k in self.record_kinds}

    def get(self, slug):
        return self.by_slug.get(slug)

    def children(self, segment):
        return [s for s in self.segments if s.parent_id == segment.pk]

    @cached_property
    def top_level(self):
        """The segments without a parent, in chain order."""
        return in_chain_order(s for s in self.segments if s.parent_id is None)

    def ids(self, slugs):
        """Ids of the segments ``slugs`` and of their sub-segments: what a participant
        needs an offering in to be "in" one of them."""
        chosen = {self.by_slug[s].pk for s in slugs if s in self.by_slug}
        return sorted(chosen | {s.pk for s in self.segments if s.parent_id in chosen})

    def tier_ids(self, tier):
        """Ids of the segments of ``tier`` (a sub-segment has its parent's tier)."""
        return sorted(s.pk for s in self.segments if s.tier == tier)

    def top_of(self, segment_id):
        """The top-level segment of segment ``segment_id`` (itself when it has no parent)."""
        segment = self.by_id.get(segment_id)
        while segment is not None and segment.parent_id is not None:
            segment = self.by_id.get(segment.parent_id)
        return segment

    def in_chain_order(self, ids):
        """The segments ``ids`` (those that exist) in chain order."""
        return in_chain_order(self.by_id[pk] for pk in ids if pk in self.by_id)


def taxonomy():
    """The segments (and the kinds of records) for the directory's current generation,
    without a query per page."""
    return kept_in_process(
        "taxonomy",
        lambda: Taxonomy(list(Segment.objects.select_related("parent")), list(RecordKind.objects.all())),
    )


def in_segments(segment_ids):
    """Participants with an offering in any of the segments (an EXISTS: no duplicates)."""
    return Exists(Offering.objects.filter(participant=OuterRef("pk"), segment_id__in=segment_ids))


class Invalid(Exception):
    """A parameter value a filter does not accept; the message says why. ``note``: what a
    page that ignores the value says instead (default: "Parameter … ignored: message")."""

    def __init__(self, message, note=""):
        super().__init__(message)
        self.note = note


def _not_a_choice(value):
    return _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": value[:60]}


@dataclass
class Option:
    """One choice of a facet: the value sent in the URL, its label, its count."""

    value: str
    label: str
    count: int = 0
    selected: bool = False
    depth: int = 0
    tier: str = ""
    disabled: bool = False  # gives no result and is not chosen

    def __post_init__(self):
        self.label = str(self.label)  # translate a lazy label once, not at every use
        # An int in a template goes through number formatting for the active language
        # (about 10 µs, and a filter column shows 70); the site groups no thousands.
        self.shown = str(self.count)


class Filter:
    """One filter of the listing. Subclasses set ``name`` and ``label`` and define
    ``parse_one``, ``condition``, ``bits`` and ``options``."""

    name = ""
    label = ""
    many = False  # the parameter may repeat (any of the values)
    facet = True  # its options are counted in the filter column
    schema = {"type": "string"}  # the parameter in the OpenAPI description
    description = ""

    def parse(self, values, taxonomy):
        """The filter's value from the parameter's non-empty ``values``: a tuple for a
        ``many`` filter, else the last value. Raises ``Invalid``."""
        if self.many:
            return tuple(dict.fromkeys(self.parse_one(v, taxonomy) for v in values))
        return self.parse_one(values[-1], taxonomy)

    def parse_one(self, value, taxonomy):
        raise NotImplementedError

    def condition(self, value, taxonomy):
        """The filter as a ``Q`` over published participants."""
        raise NotImplementedError

    def bits(self, index, value, taxonomy):
        """The filter as a bitset of the in-memory index (``bitmap.FacetIndex``)."""
        raise NotImplementedError

    def options(self, taxonomy, value):
        """The facet's options (``Option`` without counts) while ``value`` is chosen."""
        raise NotImplementedError

    def counted(self, option_value):
        """The filter's value when ``option_value`` alone is chosen (a facet count)."""
        return (option_value,) if self.many else option_value

    def encode(self, value):
        """The filter's value as the parameter's values."""
        return list(value) if self.many else [value]


class ChoiceFilter(Filter):
    """A value out of a fixed list of choices."""

    choices = ()

    def parse_one(self, value, taxonomy):
        if value not in dict(self.choices):
            raise Invalid(_not_a_choice(value))
        return value

    def options(self, taxonomy, value):
        return [Option(v, label, selected=v == value) for v, label in self.choices]

    @property
    def schema(self):
        return {"type": "string", "enum": [*dict(self.choices), ""]}


class SearchFilter(Filter):
    """``q``: free text. Matches are found and ranked by ``search.py``; the backends
    take the window of ids it gives as the filter's meaning."""

    name = "q"
    label = gettext_lazy("Search")
    facet = False
    schema = {"type": "string", "maxLength": MAX_QUERY_LENGTH}
    description = (
        "Full-text search over names (English and Chinese), tags, offerings and descriptions; "
        'web-search syntax (`"exact phrase"`, `-word`). Without `ordering`, results come by relevance.'
    )

    def parse_one(self, value, taxonomy):
        if "\x00" in value:
            raise Invalid(_("Null characters are not allowed."))
        if len(value) > MAX_QUERY_LENGTH:
            raise Invalid(
                _("Ensure this value has at most %(n)d characters (it has %(m)d).")
                % {"n": MAX_QUERY_LENGTH, "m": len(value)}
            )
        # As typed (the search box shows it again); the search normalises it.
        return " ".join(value.split())

    def encode(self, value):
        return [value]


class TierFilter(ChoiceFilter):
    """``tier``: participants with an offering in a segment of the tier."""

    name = "tier"
    label = gettext_lazy("Tier")
    choices = Tier.choices
    description = "Only participants with an offering in a segment of this tier."

    def condition(self, value, taxonomy):
        return Q(in_segments(taxonomy.tier_ids(value)))

    def bits(self, index, value, taxonomy):
        return index.union("segment", taxonomy.tier_ids(value))

    def options(self, taxonomy, value):
        return [Option(t.value, t.label, selected=t.value == value) for t in TIER_ORDER]


class SegmentFilter(Filter):
    """``segment`` (repeatable): participants with an offering in any of the segments
    or their sub-segments. An unknown slug is ignored on its own (a page keeps the others)."""

    name = "segment"
    label = gettext_lazy("Segment")
    many = True
    schema = {"type": "array", "items": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]*$"}}
    description = (
        "Segment slug (see /api/segments/), sub-segments included; repeat the parameter for any "
        "of several segments. An unknown slug is a 400."
    )

    def parse_one(self, value, taxonomy):
        if taxonomy.get(value) is None:
            raise Invalid(
                _not_a_choice(value), _("Unknown segment “%(value)s” ignored.") % {"value": value[:60]}
            )
        return value

    def condition(self, value, taxonomy):
        return Q(in_segments(taxonomy.ids(value)))

    def bits(self, index, value, taxonomy):
        return index.union("segment", taxonomy.ids(value))

    def options(self, taxonomy, value):
        """Segments in chain order with sub-segments after their parent (``depth`` 1)."""
        options = []
        for parent in taxonomy.top_level:
            for segment, depth in [(parent, 0)] + [(c, 1) for c in taxonomy.children(parent)]:
                options.append(
                    Option(
                        segment.slug,
                        segment.name,
                        selected=segment.slug in value,
                        depth=depth,
                        tier=segment.tier,
                    )
                )
        return options


class KindFilter(ChoiceFilter):
    name = "kind"
    label = gettext_lazy("Kind")
    choices = Kind.choices
    description = "Kind of organisation."

    def condition(self, value, taxonomy):
        return Q(kind=value)

    def bits(self, index, value, taxonomy):
        return index.kind.get(value, 0)


class CountryFilter(Filter):
    """``country``: ISO 3166-1 alpha-2, any case. Options: the countries that give a
    result (and the chosen one), by name in the page's language."""

    name = "country"
    label = gettext_lazy("Country")
    description = "Headquarters country, ISO 3166-1 alpha-2 (case-insensitive, e.g. `CN`)."

    @property
    def schema(self):
        return {"type": "string", "enum": [*sorted(COUNTRIES), ""]}

    def parse_one(self, value, taxonomy):
        code = value.upper()
        if code not in COUNTRIES:
            raise Invalid(_not_a_choice(code))
        return code

    def condition(self, value, taxonomy):
        return Q(country=value)

    def bits(self, index, value, taxonomy):
        return index.country.get(value, 0)

    def options(self, taxonomy, value):
        return [Option(code, country_name(code), selected=code == value) for code in COUNTRIES]


# ``true`` and ``false`` are the contract's shorthands: yes or partly, and no.
OPEN_SOURCE_VALUES = {
    "yes": ("yes",),
    "partly": ("partly",),
    "no": ("no",),
    "true": ("yes", "partly"),
    "false": ("no",),
}


class OpenSourceFilter(ChoiceFilter):
    name = "open_source"
    label = gettext_lazy("Open source")
    choices = [
        *OpenSource.choices,
        ("true", gettext_lazy("Open or partly open")),
        ("false", gettext_lazy("Closed source")),
    ]
    description = "`yes`, `partly` or `no`; `true` means yes or partly, `false` means no."

    def condition(self, value, taxonomy):
        return Q(open_source__in=OPEN_SOURCE_VALUES[value])

    def bits(self, index, value, taxonomy):
        return index.union("open_source", OPEN_SOURCE_VALUES[value])

    def options(self, taxonomy, value):
        """``yes``, ``partly``, ``no`` and ``true``; ``false`` (the same as ``no``) only
        when it is the current value."""
        shown = [(v, label) for v, label in self.choices if v != "false" or value == "false"]
        return [
            Option(v, OpenSource.NO.label if v == "false" else label, selected=v == value)
            for v, label in shown
        ]


class RecordFilter(Filter):
    """``record`` (repeatable): participants holding a record in force of any of the
    kinds (a filing, a certification, a listing...). No record says nothing else."""

    name = "record"
    label = gettext_lazy("Records in force")
    many = True
    schema = {"type": "array", "items": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]*$"}}
    description = (
        "A kind of record (see /api/records/) the participant holds in force; repeat for any of several."
    )

    def parse_one(self, value, taxonomy):
        if value not in taxonomy.record_kind:
            raise Invalid(
                _not_a_choice(value), _("Unknown kind of record “%(value)s” ignored.") % {"value": value[:60]}
            )
        return value

    def condition(self, value, taxonomy):
        return Q(Exists(Record.objects.in_force().filter(participant=OuterRef("pk"), kind__slug__in=value)))

    def bits(self, index, value, taxonomy):
        return index.union("record", value)

    def options(self, taxonomy, value):
        return [Option(k.slug, k.name, selected=k.slug in value) for k in taxonomy.record_kinds]


FILTERS = [
    SearchFilter(),
    TierFilter(),
    SegmentFilter(),
    KindFilter(),
    CountryFilter(),
    OpenSourceFilter(),
    RecordFilter(),
]
BY_NAME = {f.name: f for f in FILTERS}


@dataclass(frozen=True)
class Ordering:
    """One order of the listing: its label, its SQL order (``fields_zh`` instead on
    Chinese pages, where names are ordered by their pinyin), and whether the in-memory
    index gives it (English name order, either way)."""

    label: str
    fields: tuple
    by_name: bool = False
    descending: bool = False
    fields_zh: tuple = ()

    @property
    def in_chinese(self):
        """Whether the active language orders this differently (by pinyin)."""
        return bool(self.fields_zh) and prefers_chinese()

    def sql_fields(self):
        """The SQL order in the active language."""
        return self.fields_zh if self.in_chinese else self.fields


ORDERINGS = {
    "name": Ordering(
        gettext_lazy("Name A–Z"), ("name_en", "pk"), by_name=True, fields_zh=("name_sort_zh", "pk")
    ),
    "-name": Ordering(
        gettext_lazy("Name Z–A"),
        ("-name_en", "-pk"),
        by_name=True,
        descending=True,
        fields_zh=("-name_sort_zh", "-pk"),
    ),
    "founded": Ordering(gettext_lazy("Oldest first"), ("founded", "name_en", "pk")),
    "-founded": Ordering(gettext_lazy("Newest first"), ("-founded", "name_en", "pk")),
    "-updated": Ordering(gettext_lazy("Recently updated"), ("-updated_at", "-pk")),
}
# ``relevance`` is the default with ``q``; without it, relevance means name order.
RELEVANCE = "relevance"
ORDERING_PARAMETER = "ordering"
# A segment page is its segment's listing: the segment and tier filters do not apply there.
SCOPED_OUT = ("tier", "segment")


class InvalidCriteria(Exception):
    """Parameters a strict caller (the API) refuses: ``errors`` is ``{parameter: [message]}``."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Criteria:
    """What to list: each filter's value (``values``, by parameter name, only those set),
    the order, and the segment a segment page is limited to (``scope``)."""

    values: tuple = ()  # ((name, value), ...) in FILTERS order
    ordering: str = ""
    scope: str = ""
    notes: tuple = field(default=(), compare=False)  # ((parameter, message), ...) ignored on parse

    @classmethod
    def parse(cls, params, strict=False, scope="", taxonomy_=None):
        """Criteria from GET ``params`` (a QueryDict). An empty value means no filter.
        A page (``strict`` False) ignores a bad value with a note; the API (``strict``)
        raises ``InvalidCriteria``."""
        tax = taxonomy_ or taxonomy()
        values, notes, errors = [], [], {}
        for definition in FILTERS:
            raw = [v for v in params.getlist(definition.name) if v != ""]
            if not raw:
                continue
            if scope and definition.name in SCOPED_OUT:
                notes.append(
                    (
                        definition.name,
                        _("“%(name)s” does not apply on a segment page; ignored.")
                        % {"name": definition.name},
                    )
                )
                continue
            if definition.many and not strict:
                good = []
                for one in raw:
                    try:
                        good.append(definition.parse_one(one, tax))
                    except Invalid as exc:
                        notes.append((definition.name, exc.note or _ignored(definition.name, exc)))
                value = tuple(dict.fromkeys(good))
            else:
                try:
                    value = definition.parse(raw, tax)
                except Invalid as exc:
                    errors.setdefault(definition.name, []).append(str(exc))
                    notes.append((definition.name, exc.note or _ignored(definition.name, exc)))
                    continue
            if value:
                values.append((definition.name, value))
        ordering = params.get(ORDERING_PARAMETER, "")
        if ordering and ordering not in ORDERINGS and ordering != RELEVANCE:
            message = _("Select a valid choice. %(value)s is not one of the available choices.") % {
                "value": ordering[:60]
            }
            errors.setdefault(ORDERING_PARAMETER, []).append(message)
            notes.append(
                (
                    ORDERING_PARAMETER,
                    _("Parameter “%(name)s” ignored: %(error)s")
                    % {"name": ORDERING_PARAMETER, "error": message},
                )
            )
            ordering = ""
        if strict and errors:
            raise InvalidCriteria(errors)
        return cls(tuple(values), "" if ordering == RELEVANCE else ordering, scope, tuple(notes))

    def get(self, name, default=None):
        return dict(self.values).get(name, default)

    @property
    def q(self):
        return self.get("q", "")

    def with_value(self, name, value):
        """These criteria with filter ``name`` set to ``value`` (unset when empty)."""
        rest = [(n, v) for n, v in self.values if n != name]
        if value:
            rest.append((name, value))
        order = {f.name: i for i, f in enumerate(FILTERS)}
        return replace(self, values=tuple(sorted(rest, key=lambda item: order[item[0]])))

    def without(self, name):
        return self.with_value(name, None)

    @property
    def order(self):
        """The ``Ordering`` in effect, or None for relevance (with ``q`` and no ordering)."""
        if self.ordering:
            return ORDERINGS[self.ordering]
        return None if self.q else ORDERINGS["name"]

    @property
    def is_filtered(self):
        return bool(self.values)

    def filters(self):
        """``(Filter, value)`` for each filter set, ``q`` excepted."""
        return [(BY_NAME[name], value) for name, value in self.values if name != "q"]

    def query(self, **extra):
        """The criteria as a query string (the page's own parameters; ``scope`` excluded),
        plus ``extra`` parameters."""
        data = QueryDict(mutable=True)
        for name, value in self.values:
            data.setlist(name, BY_NAME[name].encode(value))
        if self.ordering:
            data[ORDERING_PARAMETER] = self.ordering
        for name, value in extra.items():
            if value not in (None, ""):
                data[name] = str(value)
        return data.urlencode()

    def export_query(self):
        """The query string that gives the same participants at ``/participants/export.csv``:
        a segment page's own segment becomes its ``segment`` parameter."""
        criteria = self.with_value("segment", (self.scope,)) if self.scope else self
        return criteria.query()


def _ignored(name, invalid):
    return _("Parameter “%(name)s” ignored: %(error)s") % {"name": name, "error": str(invalid)[:200]}


def ordering_choices():
    """``(value, label)`` of the orders the listing offers (relevance is the default with ``q``)."""
    return [(value, ordering.label) for value, ordering in ORDERINGS.items()]
