"""Public pages of compliance and risk records: every kind, and one kind's holders."""

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from directory import catalog
from directory.countries import COUNTRIES, country_name
from directory.csvio import iter_record_kinds_csv, iter_records_csv
from directory.web.downloads import csv_download
from directory.web.pagecache import cache_public_page


@require_GET
@cache_public_page
def record_kinds(request):
    """Every kind of record with its holders, and how records are added."""
    return render(request, "directory/records.html", {"kinds": catalog.record_kinds()})


@require_GET
@cache_public_page
def record_kind(request, kind):
    """What one kind of record means, who issues it, and every published participant
    holding one (filterable by segment and country)."""
    found = catalog.record_kind(kind)
    if found is None:
        raise Http404
    notes = []
    segment_slug = request.GET.get("segment", "")
    segment = catalog.segment(segment_slug) if segment_slug else None
    if segment_slug and segment is None:
        notes.append(_("Unknown segment “%(value)s” ignored.") % {"value": segment_slug[:60]})
    country = request.GET.get("country", "").upper()
    if country and country not in COUNTRIES:
        notes.append(_("Unknown country “%(value)s” ignored.") % {"value": country[:10]})
        country = ""
    page = catalog.record_holders(found, segment, country, request.GET.get("page"))
    query = "&".join(
        p
        for p in (f"segment={segment.slug}" if segment else "", f"country={country}" if country else "")
        if p
    )
    context = {
        "kind": found,
        "page": page,
        "segment": segment,
        "country": country,
        "country_label": country_name(country) if country else "",
        "segments": catalog.segments(),
        "countries": sorted(((code, country_name(code)) for code in COUNTRIES), key=lambda c: c[1]),
        "notes": notes,
        "query": query,
    }
    return render(request, "directory/record_kind.html", context)


@require_GET
def records_export(request):
    """Every record of a published participant as CSV in the records import format
    (export then import is lossless); ``kind=<slug>`` keeps one kind's, and
    ``kinds=1`` gives the kinds of record themselves (record-kinds.csv); ``bom=1`` for
    Excel."""
    if request.GET.get("kinds") == "1":
        rows, name = iter_record_kinds_csv(), "chainsite-record-kinds.csv"
    else:
        kind = request.GET.get("kind", "")
        if kind and catalog.record_kind(kind) is None:
            return HttpResponseBadRequest(
                _("Unknown kind of record “%(value)s”.") % {"value": kind[:60]},
                content_type="text/plain; charset=utf-8",
            )
        rows, name = iter_records_csv(kind=kind), "chainsite-records.csv"
    return csv_download(request, rows, name)
