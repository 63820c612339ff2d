"""The chain's own rules about links: which segment normally feeds which (the canonical
flow of DESIGN.md), which links count as supply, and the filters of the flow views.

Flows between segments are counted from *active supply links* by (supplied segment ->
customer segment), each rolled up to its top-level segment. "Suppliers into X" are the
links whose customer segment is X (or one of its sub-segments); "customers of X" those
whose supplied segment is.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from directory.countries import COUNTRY_GROUPS
from directory.models import SUPPLY_KINDS, LinkStatus, RelationshipKind

# How many suppliers and customers a segment page names on each side.
LEADERS = 12

# supplied segment -> the segments it normally feeds (DESIGN.md, "How the chain flows").
_DOWNSTREAM = ("knowledge-base", "agent-platforms", "aigc-tools", "industry-apps")
FLOW = {
    "energy-power": ("cloud-compute", "ai-chips"),
    # Chips feed the clouds "and anyone running its own clusters" (DESIGN.md).
    "ai-chips": ("cloud-compute", "foundation-models", "training-tuning", "data-services", *_DOWNSTREAM),
    "cloud-compute": ("foundation-models", "training-tuning", "data-services", *_DOWNSTREAM),
    "data-services": ("foundation-models", "training-tuning", "knowledge-base"),
    "training-tuning": ("foundation-models", "industry-apps"),
    "foundation-models": _DOWNSTREAM,
    "knowledge-base": ("agent-platforms", "industry-apps"),
    "agent-platforms": ("industry-apps",),
    "aigc-tools": (),
    "industry-apps": (),
}


def with_the_flow(supplied_slug, customer_slug):
    """Whether a link from top-level segment ``supplied_slug`` into ``customer_slug``
    runs as the chain normally flows (within one segment counts as with it)."""
    return supplied_slug == customer_slug or customer_slug in FLOW.get(supplied_slug, ())


def upstream_of(slug):
    """The top-level segments that normally feed ``slug``, in the flow table's order."""
    return [supplied for supplied, fed in FLOW.items() if slug in fed]


def downstream_of(slug):
    return list(FLOW.get(slug, ()))


def supply_links(queryset):
    """``queryset`` of links limited to active supply (ties and planned or ended links
    are never counted as supply)."""
    return queryset.filter(status=LinkStatus.ACTIVE, kind__in=SUPPLY_KINDS)


@dataclass(frozen=True)
class FlowFilter:
    """What the flow views can be narrowed to: the kind of supply, and the country group
    (``countries.COUNTRY_GROUPS``) of the supplier and of the customer."""

    kind: str = ""
    supplier_group: str = ""
    customer_group: str = ""

    @classmethod
    def parse(cls, params):
        """From GET ``params``: ``(filter, errors)``, where ``errors`` is ``{parameter:
        message}`` for the values it does not know (left out of the filter)."""
        values, errors = {}, {}
        checks = {
            "kind": SUPPLY_KINDS,
            "supplier_group": tuple(COUNTRY_GROUPS),
            "customer_group": tuple(COUNTRY_GROUPS),
        }
        for name, allowed in checks.items():
            value = params.get(name, "")
            if value and value not in allowed:
                errors[name] = _("Unknown value “%(value)s”; one of: %(allowed)s.") % {
                    "value": value[:40],
                    "allowed": ", ".join(allowed),
                }
            elif value:
                values[name] = value
        return cls(**values), errors

    def condition(self):
        """The filter as a ``Q`` over links (their sides' countries by group)."""
        condition = Q()
        if self.kind:
            condition &= Q(kind=self.kind)
        for side, group in (("supplier", self.supplier_group), ("customer", self.customer_group)):
            if group:
                condition &= _in_group(side, group)
        return condition

    def query(self):
        return "&".join(
            f"{k}={v}"
            for k, v in (
                ("kind", self.kind),
                ("supplier_group", self.supplier_group),
                ("customer_group", self.customer_group),
            )
            if v
        )


def _in_group(side, group):
    codes = COUNTRY_GROUPS[group][1]
    if codes:
        return Q(**{f"{side}__country__in": codes})
    others = [code for _, (_, codes_) in COUNTRY_GROUPS.items() for code in codes_]
    return ~Q(**{f"{side}__country__in": others})


KIND_LABELS = {k.value: k.label for k in RelationshipKind if k.value in SUPPLY_KINDS}


@dataclass
class Concentration:
    """How concentrated the supply into a segment is: the number of active suppliers,
    the top supplier's share of the active supply links, and the Herfindahl-Hirschman
    index over suppliers (the sum of the squared shares, 0 to 10,000)."""

    suppliers: int = 0
    links: int = 0
    top_share: float = 0.0
    hhi: int = 0

    @classmethod
    def of(cls, counts):
        """From each supplier's number of links."""
        counts = [n for n in counts if n]
        total = sum(counts)
        if not total:
            return cls()
        return cls(
            suppliers=len(counts),
            links=total,
            top_share=max(counts) / total,
            hhi=round(sum((n / total) ** 2 for n in counts) * 10_000),
        )

    @property
    def level(self):
        """The usual reading of an HHI: below 1,500 unconcentrated, up to 2,500
        moderately concentrated, above that highly concentrated."""
        if not self.links:
            return ""
        if self.hhi < 1500:
            return "low"
        return "moderate" if self.hhi <= 2500 else "high"
