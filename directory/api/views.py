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
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from directory import catalog
from directory.api.serializers import (
    ErrorSerializer,
    ParticipantDetailSerializer,
    ParticipantSerializer,
    SegmentSerializer,
    public_participants,
)
from directory.catalog.cache import remember_each
from directory.catalog.criteria import FILTERS, ORDERINGS, RELEVANCE, InvalidCriteria

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
