"""Public pages for browsing the chain: the map, segments, the listing, participants."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from directory import catalog
from directory.csvio import iter_csv
from directory.web.cards import cards
from directory.web.downloads import csv_download
from directory.web.pagecache import cache_public_page
from directory.web.seo import organization_jsonld


@require_GET
@cache_public_page
def home(request):
    """The chain map: three tiers of segment panels, and the stats strip."""
    return render(request, "directory/home.html", {"map": catalog.chain_map(), "total": catalog.total()})


@require_GET
@cache_public_page
def segment_detail(request, slug):
    """One segment: description, sub-segments, neighbours up- and downstream, its
    filterable participants and who supplies or buys from them."""
    segment = catalog.segment(slug)
    if segment is None:
        raise Http404
    criteria = catalog.Criteria.parse(request.GET, scope=slug)
    context = {
        "segment": segment,
        "children": catalog.segment_children(segment),
        "chain": catalog.segment_chain(segment),
    }
    return _render_listing(
        request, "directory/segment_detail.html", criteria, catalog.SEGMENT_FACETS, context
    )


@require_GET
@cache_public_page
def participant_list(request):
    """The filterable, searchable listing (docs/design.md's parameters)."""
    criteria = catalog.Criteria.parse(request.GET)
    return _render_listing(request, "directory/participant_list.html", criteria, catalog.FACETS)


def _render_listing(request, template, criteria, facets, context=None):
    listing = catalog.listing(criteria, request.GET.get("page"), request.GET.get("page_size"), facets)
    # htmx asks for the listing block alone; everything else gets the whole page.
    if request.htmx and not request.htmx.boosted:
        template = "directory/partials/listing.html"
    context = {
        **(context or {}),
        "listing": listing,
        "cards": cards(listing),
        "suggestions": catalog.suggestions(criteria) if criteria.q and not listing.total else [],
        "action": request.path,
        "active_filters": _active_filters(criteria),
    }
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _active_filters(criteria):
    """How many filter values are chosen, the search words aside (two segments count
    two): the number on the phone's filter disclosure."""
    return sum(len(value) if definition.many else 1 for definition, value in criteria.filters())


@require_GET
@cache_public_page
def participant_detail(request, slug):
    """Everything public about one published participant."""
    profile = catalog.profile(slug)
    if profile is None:
        raise Http404
    context = {
        "profile": profile,
        "participant": profile.participant,
        "suggest_url": reverse("directory:suggest", args=[slug]),
        "jsonld": organization_jsonld(profile.participant, request),
    }
    return render(request, "directory/participant_detail.html", context)


@require_GET
def participant_export(request):
    """The current listing filter as CSV in the import format, streamed row by row;
    with ``bom=1``, after a byte-order mark for Excel (plain UTF-8 otherwise)."""
    criteria = catalog.Criteria.parse(request.GET)
    return csv_download(request, iter_csv(catalog.export(criteria)), "chainsite-participants.csv")
