"""The read-only JSON API: segments, and published participants filtered exactly as the
HTML listing filters them (the same ``ParticipantFilter`` and ``search``).

Every answer is JSON. Malformed parameters are a 400 naming the parameter, an unknown
slug or page a 404, too many requests a 429 with ``Retry-After``. Successful answers
carry ``Cache-Control`` and an ``ETag``, and a matching ``If-None-Match`` gets a 304.
"""

import re

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from directory import catalog
from directory.api.filters import RecordFilter, RelationshipFilter
from directory.api.serializers import (
    ErrorSerializer,
    FlowSerializer,
    FlowsSerializer,
    GraphSerializer,
    ParticipantDetailSerializer,
    ParticipantSerializer,
    RecordSerializer,
    RelationshipSerializer,
    SegmentSerializer,
    public_participants,
)
from directory.catalog.cache import remember_each
from directory.catalog.criteria import FILTERS, ORDERINGS, RELEVANCE, InvalidCriteria
from directory.catalog.flows import KIND_LABELS
from directory.countries import COUNTRIES, COUNTRY_GROUPS
from directory.models import LinkStatus, Participant, Record, RecordStatus, RelationshipKind

PAGE_SIZE_MIN = 20
PAGE_SIZE_MAX = 100
TRUNCATED_HEADER = "X-Search-Truncated"


def exception_handler(exc, context):
    """DRF's handler, with malformed parameters answered as one readable sentence
    (``detail``) plus the messages per parameter (``errors``), like every other error."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError) and isinstance(response.data, dict):
        messages = "; ".join(f"{name}: {' '.join(map(str, errs))}" for name, errs in response.data.items())
        response.data = {
            "detail": _("Invalid parameters. %(messages)s") % {"messages": messages},
            "errors": response.data,
        }
    return response


def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


class Pagination(PageNumberPagination):
    """``page`` (from 1) and ``page_size`` (20 to 100, default 20); anything else is a 400
    rather than being silently replaced, and a page past the end is a 404."""

    page_size = PAGE_SIZE_MIN
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX
    last_page_strings = ()
    invalid_page_message = gettext_lazy("There is no page {page_number}.")

    def listing(self, request, criteria):
        """The catalog's page of ``criteria`` for this request, as this paginator's page
        (a page past the end is a 404)."""
        size, number = self.get_page_size(request), self.get_page_number(request, None)
        try:
            listing = catalog.listing(criteria, number, size, facets=(), strict=True)
        except InvalidPage:
            raise NotFound(str(self.invalid_page_message).format(page_number=number)) from None
        self.page, self.request = listing.page, request
        return listing

    def get_page_size(self, request):
        value = _whole_number(request.query_params.get(self.page_size_query_param), self.page_size)
        if value is None or not PAGE_SIZE_MIN <= value <= PAGE_SIZE_MAX:
            raise ValidationError(
                {
                    "page_size": [
                        _("Must be a whole number from %(min)d to %(max)d.")
                        % {"min": PAGE_SIZE_MIN, "max": PAGE_SIZE_MAX}
                    ]
                }
            )
        return value

    def get_page_number(self, request, paginator):
        value = _whole_number(request.query_params.get(self.page_query_param), 1)
        if value is None or value < 1:
            raise ValidationError({"page": [_("Must be a whole number from 1.")]})
        return value


def _whole_number(text, default):
    """``text`` (ASCII digits only) as an int; ``default`` when the parameter is absent,
    ``None`` for anything else, the empty string included."""
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]+", text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return None


class CachedReadMixin:
    """``Cache-Control: public, max-age=…`` and a strong ETag over the body of every
    successful read; a request whose ``If-None-Match`` matches gets a bodiless 304.

    The ETag hashes the JSON itself rather than a timestamp: a participant's page also
    changes when its offerings, tags or neighbours change, which ``updated_at`` misses.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response.render()
            set_response_etag(response)
            patch_cache_control(response, public=True, max_age=settings.API_CACHE_MAX_AGE)
            response = get_conditional_response(request, etag=response.get("ETag"), response=response)
        return response


ERRORS = {
    304: OpenApiResponse(description="Not modified: the ETag sent in If-None-Match is still current."),
    400: OpenApiResponse(ErrorSerializer, description="A malformed parameter; `errors` names it."),
    404: OpenApiResponse(ErrorSerializer, description="No such participant or page."),
    429: OpenApiResponse(
        ErrorSerializer, description="Too many requests; retry after `Retry-After` seconds."
    ),
}
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="Page number, from 1 (a page past the end is a 404).",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": PAGE_SIZE_MIN, "maximum": PAGE_SIZE_MAX, "default": PAGE_SIZE_MIN},
        description=f"Results per page, {PAGE_SIZE_MIN} to {PAGE_SIZE_MAX}.",
    ),
]


@extend_schema(
    summary="All segments of the chain",
    parameters=PAGE_PARAMETERS,
    responses={200: SegmentSerializer(many=True), **ERRORS},
)
class SegmentList(CachedReadMixin, generics.ListAPIView):
    """Every segment (the ten canonical ones and any sub-segments) in chain order, with
    the number of published participants in each."""

    serializer_class = SegmentSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return catalog.segments()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "counts": catalog.segment_counts()}


@extend_schema(
    summary="Published participants, filtered like the listing",
    parameters=[
        *(
            OpenApiParameter(
                f.name,
                f.schema,
                description=f.description,
                **({"style": "form", "explode": True} if f.many else {}),
            )
            for f in FILTERS
        ),
        OpenApiParameter(
            "ordering",
            {"type": "string", "enum": [*ORDERINGS, RELEVANCE, ""]},
            description="`name`, `-name`, `founded`, `-founded` (oldest/newest first) or `-updated` "
            "(recently updated first); `relevance` with `q`. Default: relevance with `q`, else name.",
        ),
        *PAGE_PARAMETERS,
        OpenApiParameter(
            TRUNCATED_HEADER,
            bool,
            location=OpenApiParameter.HEADER,
            response=[200],
            description="`true` when the search `q` matched more participants than the search "
            "window (1,000 by default): `count` and the results then cover the first matches only "
            "(add words or filters to narrow the search). Absent otherwise.",
        ),
    ],
    responses={200: ParticipantSerializer(many=True), **ERRORS},
)
class ParticipantList(CachedReadMixin, generics.ListAPIView):
    """Published participants with their tags and offerings, filtered exactly as the
    directory's listing at /participants/ filters them: the same parameters give the same
    participants in the same order. An empty value (``tier=``) means no filter, as in the
    listing's form; an unknown one is a 400."""

    serializer_class = ParticipantSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return public_participants()

    def list(self, request, *args, **kwargs):
        try:
            criteria = catalog.Criteria.parse(request.query_params, strict=True)
        except InvalidCriteria as exc:
            raise ValidationError(exc.errors) from None
        self.listing = self.paginator.listing(request, criteria)
        return self.get_paginated_response(self.serialized(self.listing.ids))

    def serialized(self, ids):
        """The participants ``ids`` as JSON-ready dicts, in that order, each kept until the
        directory changes (per scheme and host: it holds absolute URLs); a page fetches
        only the others (the page joined to parents, offerings, tags: three queries)."""

        def compute(missing):
            participants = list(self.get_queryset().filter(pk__in=missing))
            data = self.get_serializer(participants, many=True).data
            return {p.pk: item for p, item in zip(participants, data, strict=True)}

        found = remember_each("api-participant", (self.request.build_absolute_uri("/"),), ids, compute)
        return [found[pk] for pk in ids if pk in found]

    def finalize_response(self, request, response, *args, **kwargs):
        listing = getattr(self, "listing", None)
        if listing is not None and listing.truncated:
            response[TRUNCATED_HEADER] = "true"
        return super().finalize_response(request, response, *args, **kwargs)


@extend_schema(
    summary="One published participant",
    responses={200: ParticipantDetailSerializer, **{c: r for c, r in ERRORS.items() if c != 400}},
)
class ParticipantDetail(CachedReadMixin, generics.RetrieveAPIView):
    """Everything public about one published participant, with its published upstream
    suppliers and downstream customers and the evidence for each link."""

    serializer_class = ParticipantDetailSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return public_participants(relationships=True)

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            raise NotFound(_("No published participant has the slug “%(slug)s”.") % self.kwargs) from None


class _StrictFilterBackend(DjangoFilterBackend):
    """django-filter's DRF backend: an invalid filter is a 400 naming the parameter."""


def _choices(name, values, description):
    """A choice parameter whose empty value means no filter, as everywhere in the API."""
    return OpenApiParameter(name, {"type": "string", "enum": [*values, ""]}, description=description)


COUNTRY_PARAMETER_VALUES = sorted(COUNTRIES)


@extend_schema(
    summary="Links between published participants",
    parameters=[
        _choices("kind", RelationshipKind.values, "What the link is: a kind of supply, or a tie."),
        _choices("status", LinkStatus.values, "planned, active or ended."),
        _choices("country", COUNTRY_PARAMETER_VALUES, "Either side's headquarters, ISO 3166-1 alpha-2."),
        # A year, or empty for no filter, as every filter of the API.
        *(
            OpenApiParameter(name, {"type": "string", "pattern": "^([0-9]{1,4})?$"}, description=text)
            for name, text in (
                ("since_from", "Links that started in this year or later."),
                ("since_to", "Links that started in this year or earlier."),
            )
        ),
        *PAGE_PARAMETERS,
    ],
    responses={200: RelationshipSerializer(many=True), **ERRORS},
)
class RelationshipList(CachedReadMixin, generics.ListAPIView):
    """Every link between two published participants (supply and ties), newest first,
    filtered by ``supplier``, ``customer``, ``kind``, ``status``, ``supplied_segment``,
    ``customer_segment``, ``since_from``, ``since_to`` and ``country`` (of either side)."""

    serializer_class = RelationshipSerializer
    pagination_class = Pagination
    filter_backends = [_StrictFilterBackend]
    filterset_class = RelationshipFilter

    def get_queryset(self):
        return catalog.links()


@extend_schema(
    summary="Compliance and risk records of published participants",
    parameters=[
        _choices("status", RecordStatus.values, "in force, expired, revoked or removed."),
        _choices("country", COUNTRY_PARAMETER_VALUES, "The participant's headquarters, ISO 3166-1 alpha-2."),
        *PAGE_PARAMETERS,
    ],
    responses={200: RecordSerializer(many=True), **ERRORS},
)
class RecordList(CachedReadMixin, generics.ListAPIView):
    """Records (filings, certifications, codes of practice, export-control listings) of
    published participants, filtered by ``participant``, ``kind``, ``status``, ``country``
    and ``segment``. A participant with no record has none in chainsite: nothing more."""

    serializer_class = RecordSerializer
    pagination_class = Pagination
    filter_backends = [_StrictFilterBackend]
    filterset_class = RecordFilter

    def get_queryset(self):
        return (
            Record.objects.filter(participant__status="published")
            .select_related("participant", "kind")
            .prefetch_related("sources")
            .order_by("kind__order", "kind__slug", "-date", "pk")
        )


FLOW_PARAMETERS = [
    OpenApiParameter("kind", {"type": "string", "enum": [*KIND_LABELS, ""]}, description="What is supplied."),
    *(
        OpenApiParameter(
            name,
            {"type": "string", "enum": [*COUNTRY_GROUPS, ""]},
            description=f"Country group of the {side}: " + ", ".join(COUNTRY_GROUPS) + ".",
        )
        for name, side in (("supplier_group", "supplier"), ("customer_group", "customer"))
    ),
]


@extend_schema(
    summary="Supply flows between the chain's segments",
    parameters=FLOW_PARAMETERS,
    responses={200: FlowsSerializer, 400: ERRORS[400], 429: ERRORS[429]},
)
class FlowList(CachedReadMixin, generics.GenericAPIView):
    """The numbers of /chain/flows/: active supply links by (supplied top-level segment,
    customer top-level segment), largest first, with the page's filters."""

    serializer_class = FlowSerializer

    def get(self, request, *args, **kwargs):
        flow_filter, errors = catalog.FlowFilter.parse(request.query_params)
        if errors:
            raise ValidationError({name: [str(message)] for name, message in errors.items()})
        table = catalog.flow_table(flow_filter)
        return Response(
            {  # the shape of FlowsSerializer
                "count": len(table.rows),
                "total_links": table.total,
                "results": FlowSerializer(
                    [
                        {
                            "supplied_segment": a.slug,
                            "customer_segment": b.slug,
                            "links": n,
                            "with_the_flow": w,
                        }
                        for a, b, n, w in table.rows
                    ],
                    many=True,
                ).data,
            }
        )


@extend_schema(
    summary="One participant's dependency graph",
    parameters=[
        OpenApiParameter(
            "depth",
            {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
            description="Steps up and down.",
        )
    ],
    responses={200: GraphSerializer, **ERRORS},
)
class ParticipantGraph(CachedReadMixin, generics.GenericAPIView):
    """The active supply links around a published participant: its suppliers and their
    suppliers (negative levels), its customers and theirs (positive levels)."""

    serializer_class = GraphSerializer

    def get(self, request, slug):
        depth = _whole_number(request.query_params.get("depth"), 1)
        if depth is None or not 1 <= depth <= 3:
            raise ValidationError({"depth": [_("Must be a whole number from 1 to 3.")]})
        participant = Participant.objects.published().filter(slug=slug).first()
        if participant is None:
            raise NotFound(_("No published participant has the slug “%(slug)s”.") % {"slug": slug})
        graph = catalog.graph(participant, depth)
        segments = {s.pk: s.slug for s in catalog.segments()}
        nodes = [_node(participant, 0, None)]
        for sign, levels in ((-1, graph.levels_up), (1, graph.levels_down)):
            for step, level in enumerate(levels, 1):
                nodes += [_node(p, sign * step, segments.get(segment)) for p, segment in level]
        slugs = {n["id"]: n["slug"] for n in nodes}
        edges = [
            {
                "supplier": slugs[a],
                "customer": slugs[b],
                "kind": kind,
                "supplied_segment": segments.get(segment),
            }
            for a, b, kind, segment in graph.edges
            if a in slugs and b in slugs
        ]
        data = {
            "participant": slug,
            "depth": depth,
            "truncated": graph.truncated,
            "nodes": nodes,
            "edges": edges,
        }
        return Response(GraphSerializer(data).data)


def _node(participant, level, segment):
    return {
        "id": participant.pk,
        "slug": participant.slug,
        "name_en": participant.name_en,
        "name_zh": participant.name_zh,
        "country": participant.country,
        "level": level,
        "segment": segment,
    }


def _route_template(route):
    """A route as a URL template: ``participants/<slug:slug>/`` -> ``participants/{slug}/``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@extend_schema(exclude=True)
class Index(CachedReadMixin, APIView):
    """``/api/``: a link to every endpoint (read from the API's own routes, so a new one
    is listed at once), to the OpenAPI description and to its browsable docs."""

    NOT_ENDPOINTS = ("index", "schema", "docs")

    def get(self, request):
        from directory.api.urls import urlpatterns  # the routes import this module

        root = request.build_absolute_uri(reverse("api:index"))
        endpoints = {
            pattern.name: root + _route_template(str(pattern.pattern))
            for pattern in urlpatterns
            if pattern.name and pattern.name not in self.NOT_ENDPOINTS
        }
        return Response(
            {
                "description": _(
                    "Read-only JSON API of chainsite, the directory of the LLM industry chain. Lists "
                    "are paginated as {count, next, previous, results} and take the listing's filters."
                ),
                "endpoints": endpoints,
                "schema": request.build_absolute_uri(reverse("api:schema")),
                "docs": request.build_absolute_uri(reverse("api:docs")),
            }
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 description: YAML, or JSON with ``?format=json``."""

    def get_format_suffix(self, **kwargs):
        # The API ignores ``format`` (URL_FORMAT_OVERRIDE is off); only here does it
        # choose between the description's encodings.
        return self.request.query_params.get("format") or super().get_format_suffix(**kwargs)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from our own static files (drf-spectacular-sidecar), its setup script
    served as a file rather than inline."""

    url_name = "api:schema"
