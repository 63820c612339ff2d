"""Public pages for browsing the chain: the map, segments, the listing, participants."""

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from .. import chain
from ..caching import cache_public_page, cached_value, generation
from ..countries import country_name
from ..facet_index import facet_index
from ..filters import all_segments, in_segments, lenient_filterset, segment_ids_with_children
from ..importer import iter_csv
from ..listing import build_listing
from ..models import Participant, Relationship
from ..seo import organization_jsonld


@require_GET
@cache_public_page
def home(request):
    """The chain map: three tiers of segment panels, and the stats strip."""

    index = facet_index()

    def build():
        segments = all_segments()
        tiers = chain.chain_map(segments, index)
        return {"tiers": tiers, "stats": chain.stats(tiers, segments, index)}

    # The map only changes when the directory does: its data and its rendered HTML (a
    # template fragment cached under the generation token) are kept per language until then.
    context = {
        "map": SimpleLazyObject(lambda: cached_value("chain-map", (get_language(),), build)),
        "total": index.everyone.bit_count(),
        "generation": generation(),
        "cache_seconds": settings.COUNT_CACHE_SECONDS,
    }
    return render(request, "directory/home.html", context)


@require_GET
@cache_public_page
def segment_detail(request, slug):
    """One segment: description, sub-segments, neighbours up- and downstream, its
    filterable participants and who supplies or buys from them."""
    segments = all_segments()
    segment = next((s for s in segments if s.slug == slug), None)
    if segment is None:
        raise Http404
    members = Participant.objects.published().filter(in_segments(segment_ids_with_children(segments, [slug])))
    listing = build_listing(request.GET, members, ("country", "kind", "open_source"), segments, slug)
    upstream, downstream = chain.neighbour_segments(segment, segments)
    # Ranks the members' links in the in-memory link arrays (10–15 ms a segment at
    # 100,000 participants): kept until the directory next changes.
    suppliers, customers = cached_value(
        "trading-partners", (segment.pk,), lambda: chain.trading_partners(segment, segments)
    )
    context = {
        "segment": segment,
        "children": [s for s in segments if s.parent_id == segment.pk],
        "upstream": upstream,
        "downstream": downstream,
        "suppliers": suppliers,
        "customers": customers,
        "listing": listing,
        "action": request.path,
    }
    return _render_listing(request, "directory/segment_detail.html", context)


@require_GET
@cache_public_page
def participant_list(request):
    """The filterable, searchable listing (DESIGN.md's parameters)."""
    listing = build_listing(request.GET, Participant.objects.published())
    return _render_listing(
        request, "directory/participant_list.html", {"listing": listing, "action": request.path}
    )


def _render_listing(request, template, context):
    # htmx asks for the listing block alone; everything else gets the whole page.
    if request.htmx and not request.htmx.boosted:
        template = "directory/partials/listing.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@cache_public_page
def participant_detail(request, slug):
    """Everything public about one published participant."""
    participant = get_object_or_404(Participant.objects.published().for_page(), slug=slug)
    segments = participant.offering_segments
    suppliers, customers = Relationship.objects.links_of(participant)
    subsidiaries, similar = chain.relatives(participant, segments)
    context = {
        "participant": participant,
        "offering_groups": [
            (s, [o for o in participant.offerings.all() if o.segment_id == s.pk]) for s in segments
        ],
        "suppliers": suppliers,
        "customers": customers,
        "parent": participant.parent if participant.parent_id and participant.parent.is_published else None,
        "subsidiaries": subsidiaries,
        "similar": similar,
        "suggest_url": reverse("directory:participant", args=[slug]) + "suggest/",
        "country_label": country_name(participant.country),
        "jsonld": organization_jsonld(participant, request),
    }
    return render(request, "directory/participant_detail.html", context)


@require_GET
def participant_export(request):
    """The current listing filter as CSV in the import format, streamed row by row."""
    filterset, _notes = lenient_filterset(request.GET, queryset=Participant.objects.published())
    filterset.windowed = False  # every match of a search, not the first SEARCH_WINDOW
    response = StreamingHttpResponse(iter_csv(filterset.qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="chainsite-participants.csv"'
    return response
