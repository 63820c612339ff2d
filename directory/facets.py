"""Facet counts for the listing: next to each filter option, how many participants the
current filter would give with that option chosen.

Each facet counts within the current filter *minus its own parameter*, so the options of
one facet are alternatives to each other (the usual "disjunctive" faceting of shops and
search engines): choosing China does not make every other country show zero. The counts
come from the bitmap index (``facet_index.py``), so they cost no query.
"""

from dataclasses import dataclass

from .countries import country_name
from .filters import OPEN_SOURCE_CHOICES
from .models import TIER_ORDER, Kind, OpenSource, in_chain_order

OPEN_SOURCE_LABELS = dict(OPEN_SOURCE_CHOICES)
FACETS = ("tier", "segment", "country", "kind", "open_source")


@dataclass
class Option:
    """One choice of a facet: the value sent in the URL, its label, its count."""

    value: str
    label: str
    count: int
    selected: bool = False
    depth: int = 0
    disabled: bool = False  # gives no result and is not chosen (set by ``facets``)

    def __post_init__(self):
        self.label = str(self.label)  # translate a lazy label once, not at every use
        # The count as pages show it. An int in a template goes through number formatting
        # for the active language (about 10 µs, and a filter column shows 70), which
        # gives these same digits: the site groups no thousands (USE_THOUSAND_SEPARATOR).
        self.shown = str(self.count)


def _counts(index, selection, facet, table):
    """``{value: n}``: participants of ``selection`` without its ``facet`` condition,
    per value of the index's ``table``."""
    rest = selection.matching(leave_out=facet)
    return {value: (rest & bits).bit_count() for value, bits in getattr(index, table).items()}


def tier_options(index, selection, segments, selected):
    rest = selection.matching(leave_out="tier")
    counts = {
        tier.value: (rest & index.union("segment", [s.pk for s in segments if s.tier == tier])).bit_count()
        for tier in TIER_ORDER
    }
    return [Option(t.value, t.label, counts[t.value], t.value == selected) for t in TIER_ORDER]


def segment_options(index, selection, segments, selected):
    """Segments in chain order with sub-segments after their parent (``depth`` 1); a
    segment's count includes its sub-segments' participants, as the filter does."""
    rest = selection.matching(leave_out="segment")
    counts = {f"s{s.pk}": (rest & index.members_of(segments, [s.slug])).bit_count() for s in segments}
    options = []
    for parent in in_chain_order(s for s in segments if s.parent_id is None):
        for segment, depth in [(parent, 0)] + [(c, 1) for c in segments if c.parent_id == parent.pk]:
            option = Option(
                segment.slug, segment.name, counts[f"s{segment.pk}"], segment.slug in selected, depth
            )
            option.tier = segment.tier
            options.append(option)
    return options


def country_options(index, selection, segments, selected):
    counts = _counts(index, selection, "country", "country")
    codes = {code for code, n in counts.items() if code and n} | ({selected} if selected else set())
    options = [Option(code, country_name(code), counts.get(code, 0), code == selected) for code in codes]
    return sorted(options, key=lambda o: o.label)


def kind_options(index, selection, segments, selected):
    counts = _counts(index, selection, "kind", "kind")
    return [Option(k.value, k.label, counts.get(k.value, 0), k.value == selected) for k in Kind]


def open_source_options(index, selection, segments, selected):
    """``yes``, ``partly``, ``no`` and ``true`` (yes or partly); ``false`` means the same
    as ``no`` and is only listed when it is the current value."""
    counts = _counts(index, selection, "open_source", "open_source")
    options = [Option(o.value, o.label, counts.get(o.value, 0), o.value == selected) for o in OpenSource]
    either = counts.get("yes", 0) + counts.get("partly", 0)
    options.append(Option("true", OPEN_SOURCE_LABELS["true"], either, selected == "true"))
    if selected == "false":
        options.append(Option("false", OpenSource.NO.label, counts.get("no", 0), True))
    return options


_BUILDERS = {
    "tier": tier_options,
    "segment": segment_options,
    "country": country_options,
    "kind": kind_options,
    "open_source": open_source_options,
}


def facets(index, selection, data, segments, names=FACETS, truncated=False):
    """The facets ``names`` of a filter (its cleaned ``data`` and its ``selection`` of the
    bitmap ``index``): ``{name: [Option]}``. An option with no result is disabled unless
    the counts are those of a ``truncated`` search window (a zero there may not be one)."""
    selected = {name: data.get(name) or "" for name in names}
    if "segment" in names:
        selected["segment"] = set(data.get("segment") or [])
    built = {name: _BUILDERS[name](index, selection, segments, selected[name]) for name in names}
    for options in built.values():
        for option in options:
            option.disabled = not (option.count or option.selected or truncated)
    return built
