"""Public pages of the chain as a whole: the supply flows between segments, the links
behind a flow, what changed (with its Atom feed), and the links as CSV."""

import datetime

from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from directory import catalog
from directory.catalog.flows import KIND_LABELS
from directory.catalog.links import CHANGE_KINDS
from directory.catalog.listing import page_number_from
from directory.countries import COUNTRY_GROUPS
from directory.csvio import iter_relationships_csv, public_links
from directory.models import LinkStatus
from directory.web.diagram import flow_diagram
from directory.web.downloads import csv_download
from directory.web.pagecache import cache_public_page

LINKS_PER_PAGE = 50


def _filter_choices():
    return {
        "kinds": [(value, str(label)) for value, label in KIND_LABELS.items()],
        "groups": [(slug, str(label)) for slug, (label, _codes) in COUNTRY_GROUPS.items()],
    }


@require_GET
@cache_public_page
def flows(request):
    """The whole chain's active supply flows between segments: a diagram, the same
    numbers as a table, and each segment's concentration; filterable by kind and by the
    country group of either side."""
    flow_filter, notes = _flow_filter(request)
    table = catalog.flow_table(flow_filter)
    context = {
        "table": table,
        "diagram": flow_diagram(table, flow_filter),
        "flow_filter": flow_filter,
        "notes": notes,
        **_filter_choices(),
    }
    return render(request, "directory/flows.html", context)


def _flow_filter(request):
    """The page's ``FlowFilter`` and a note for each value it ignored."""
    flow_filter, errors = catalog.FlowFilter.parse(request.GET)
    notes = [
        (name, _("Parameter “%(name)s” ignored: %(error)s") % {"name": name, "error": e})
        for name, e in errors.items()
    ]
    return flow_filter, notes


def _segment_param(request, name, notes):
    slug = request.GET.get(name, "")
    found = catalog.segment(slug) if slug else None
    if slug and found is None:
        notes.append((name, _("Unknown segment “%(value)s” ignored.") % {"value": slug[:60]}))
    return found


@require_GET
@cache_public_page
def chain_links(request):
    """The active supply links behind a flow (``supplied`` and ``customer`` segments,
    and the flow page's filters), newest first, paginated."""
    flow_filter, notes = _flow_filter(request)
    supplied = _segment_param(request, "supplied", notes)
    received = _segment_param(request, "customer", notes)
    links = catalog.links(
        supplied, received, flow_filter, status=LinkStatus.ACTIVE, kind__in=list(KIND_LABELS)
    )
    pages = Paginator(links, LINKS_PER_PAGE)
    page = pages.page(page_number_from(request.GET.get("page"), pages.num_pages, notes))
    query = "&".join(
        part
        for part in (
            f"supplied={supplied.slug}" if supplied else "",
            f"customer={received.slug}" if received else "",
            flow_filter.query(),
        )
        if part
    )
    context = {
        "page": page,
        "supplied": supplied,
        "received": received,
        "flow_filter": flow_filter,
        "notes": notes,
        "query": query,
        **_filter_choices(),
    }
    return render(request, "directory/chain_links.html", context)


def _changes_request(request):
    """``(kind, segment, year, page, notes)`` of a /changes/ request."""
    notes = []
    kind = request.GET.get("kind") or "links"
    if kind not in CHANGE_KINDS:
        notes.append(("kind", _("Parameter “%(name)s” ignored: unknown value.") % {"name": "kind"}))
        kind = "links"
    segment = _segment_param(request, "segment", notes)
    year = request.GET.get("year", "")
    if year and not (year.isdigit() and len(year) == 4):
        notes.append(("year", _("Parameter “%(name)s” ignored: unknown value.") % {"name": "year"}))
        year = ""
    return kind, segment, int(year) if year else None, request.GET.get("page"), notes


@require_GET
@cache_public_page
def changes(request):
    """What changed: new, re-statused and ended links, or publications, newest first."""
    kind, segment, year, page, notes = _changes_request(request)
    current = catalog.changes(kind, segment, year, page)
    number = page_number_from(page, current.paginator.num_pages, notes)
    if number != current.number:  # a page number below 1 (the paginator shows the last page)
        current = catalog.changes(kind, segment, year, number)
    context = {
        "page": current,
        "kind": kind,
        "segment": segment,
        "year": year or "",
        "notes": notes,
        "segments": catalog.segments(),
        "query": "&".join(
            p
            for p in (
                f"kind={kind}",
                f"segment={segment.slug}" if segment else "",
                f"year={year}" if year else "",
            )
            if p
        ),
    }
    return render(request, "directory/changes.html", context)


class ChangesFeed(Feed):
    """The first page of /changes/ (with the same parameters) as Atom."""

    feed_type = Atom1Feed
    title = gettext_lazy("chainsite: what changed in the LLM industry chain")
    subtitle = gettext_lazy("New links, changes of status, ended links and new organisations.")

    def get_object(self, request):
        kind, segment, year, _page, _notes = _changes_request(request)
        return kind, segment, year

    def link(self, obj):
        return reverse("directory:changes")

    def items(self, obj):
        kind, segment, year = obj
        return list(catalog.changes(kind, segment, year, 1).object_list)

    def item_title(self, change):
        if change.participant is not None:
            return _("Published: %(name)s") % {"name": change.participant.name}
        link = change.link
        return f"{link.supplier.name} {link.kind_label} {link.customer.name} ({link.get_event_display()})"

    def item_description(self, change):
        if change.link is None:
            return change.participant.description
        sources = "; ".join(str(s) for s in change.link.cited)
        return " ".join(p for p in (change.link.evidence_text, sources and _("Sources: %s") % sources) if p)

    def item_link(self, change):
        participant = change.participant or change.link.supplier
        return participant.get_absolute_url()

    def item_guid(self, change):
        if change.link is not None:
            return f"link-{change.link.pk}-{change.kind}-{change.date}"
        return f"published-{change.participant.pk}"

    item_guid_is_permalink = False

    def item_updateddate(self, change):
        if isinstance(change.date, datetime.datetime):
            return change.date
        return timezone.make_aware(datetime.datetime.combine(change.date, datetime.time()))


@require_GET
def relationships_export(request):
    """Every link between published participants as CSV, in the relationships import
    format (export then import is lossless); ``bom=1`` for Excel."""
    return csv_download(request, iter_relationships_csv(public_links()), "chainsite-relationships.csv")
