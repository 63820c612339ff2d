"""The read-only JSON API: segments, and published participants filtered exactly as the
HTML listing filters them (the same ``ParticipantFilter`` and ``search``).

Every answer is JSON. Malformed parameters are a 400 naming the parameter, an unknown
slug or page a 404, too many requests a 429 with ``Retry-After``. Successful answers
carry ``Cache-Control`` and an ``ETag``, and a matching ``If-None-Match`` gets a 304.
"""

import re

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator as DjangoPaginator
from django.http import Http404, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.extensions import OpenApiFilterExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from .caching import generation
from .countries import COUNTRIES
from .facet_index import facet_index
from .filters import OPEN_SOURCE_VALUES, ORDERING_FIELDS, ParticipantFilter
from .listing import count_of, page_ids, selection_of
from .models import Kind, Segment, Tier
from .search import MAX_QUERY_LENGTH
from .serializers import (
    ErrorSerializer,
    ParticipantDetailSerializer,
    ParticipantSerializer,
    SegmentSerializer,
    public_participants,
)

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
    known_count = None  # set by the view: the total, counted without a COUNT query

    def django_paginator_class(self, queryset, page_size):
        paginator = DjangoPaginator(queryset, page_size)
        if self.known_count is not None:
            paginator.count = self.known_count  # a cached_property: setting it skips the COUNT
        return paginator

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


class ParticipantFilterBackend(DjangoFilterBackend):
    """django-filter's DRF backend (an invalid FilterSet raises a 400) that leaves the
    filterset on the view, which counts with it; named so that the schema extension below
    applies to it alone."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        view.filterset = filterset
        return filterset.qs


class ParticipantFilterBackendSchema(OpenApiFilterExtension):
    """The parameters of ``ParticipantFilter`` are documented by hand on ``ParticipantList``
    (its segment and country choices are only known per request, so guessing them from
    the FilterSet would describe them wrongly); ``test_api_schema`` keeps the two in step."""

    target_class = "directory.api.ParticipantFilterBackend"
    priority = 1  # ahead of drf-spectacular's own DjangoFilterExtension

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        return []


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

    queryset = Segment.objects.select_related("parent").with_participant_count()
    serializer_class = SegmentSerializer
    pagination_class = Pagination


@extend_schema(
    summary="Published participants, filtered like the listing",
    parameters=[
        OpenApiParameter(
            "q",
            {"type": "string", "maxLength": MAX_QUERY_LENGTH},
            description="Full-text search over names (English and Chinese), descriptions, tags and "
            'offerings; web-search syntax (`"exact phrase"`, `-word`). Without `ordering`, '
            "results come by relevance.",
        ),
        OpenApiParameter(
            "tier",
            {"type": "string", "enum": [*Tier.values, ""]},
            description="Only participants with an offering in a segment of this tier.",
        ),
        OpenApiParameter(
            "segment",
            {"type": "array", "items": {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}},
            style="form",
            explode=True,
            description="Segment slug (see /api/segments/), sub-segments included; repeat the "
            "parameter for any of several segments. An unknown slug is a 400.",
        ),
        OpenApiParameter(
            "kind", {"type": "string", "enum": [*Kind.values, ""]}, description="Kind of organisation."
        ),
        OpenApiParameter(
            "country",
            {"type": "string", "enum": [*sorted(COUNTRIES), ""]},
            description="Headquarters country, ISO 3166-1 alpha-2 (case-insensitive, e.g. `CN`).",
        ),
        OpenApiParameter(
            "open_source",
            {"type": "string", "enum": [*OPEN_SOURCE_VALUES, ""]},
            description="`yes`, `partly` or `no`; `true` means yes or partly, `false` means no.",
        ),
        OpenApiParameter(
            "ordering",
            {"type": "string", "enum": [*ORDERING_FIELDS, ""]},
            description="`name`, `-name`, `founded`, `-founded` (oldest/newest first) or `-updated` "
            "(recently updated first). Default: relevance with `q`, else name.",
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
    filter_backends = [ParticipantFilterBackend]
    filterset_class = ParticipantFilter

    def get_queryset(self):
        return public_participants()

    def list(self, request, *args, **kwargs):
        self.filter_queryset(self.get_queryset())  # validates the parameters (a 400) and binds the filterset
        # The bitmap index gives the count and the page's ids unless a search window does.
        index = selection = None
        if self.filterset.search_ids is None:
            index = facet_index()
            selection = selection_of(self.filterset, index)
        self.paginator.known_count = count_of(self.filterset, selection)
        ids = self.paginate_queryset(page_ids(self.filterset, index, selection))
        return self.get_paginated_response(self.serialized(ids))

    def serialized(self, ids):
        """The participants ``ids`` as JSON-ready dicts, in that order. Each is cached for
        the directory's current generation (per scheme and host: it holds absolute URLs),
        so a page reads them with one cache round trip and fetches only the others (the
        page joined to parents, offerings, tags: three queries)."""
        seconds = settings.COUNT_CACHE_SECONDS
        prefix = f"directory:api-participant:{generation()}:{self.request.build_absolute_uri('/')}:"
        found = cache.get_many([f"{prefix}{pk}" for pk in ids]) if seconds > 0 else {}
        missing = [pk for pk in ids if f"{prefix}{pk}" not in found]
        if missing:
            participants = list(self.get_queryset().filter(pk__in=missing))
            data = self.get_serializer(participants, many=True).data
            fresh = {f"{prefix}{p.pk}": item for p, item in zip(participants, data, strict=True)}
            if seconds > 0:
                cache.set_many(fresh, seconds)
            found.update(fresh)
        return [found[f"{prefix}{pk}"] for pk in ids if f"{prefix}{pk}" in found]

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(getattr(self, "filterset", None), "search_truncated", False):
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
