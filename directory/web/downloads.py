"""The CSV downloads (participants, relationships, records): streamed, plain UTF-8, or
with ``bom=1`` after the byte-order mark Excel needs to show Chinese names (the
importers skip it)."""

import itertools

from django.http import StreamingHttpResponse

EXCEL_BOM = "\ufeff"


def csv_download(request, rows, filename):
    """A streamed CSV attachment of ``rows`` (strings) named ``filename``."""
    if request.GET.get("bom") == "1":
        rows = itertools.chain([EXCEL_BOM], rows)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
