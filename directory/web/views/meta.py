"""Files at fixed addresses outside the pages: robots.txt (what crawlers may fetch, and
where the sitemap is) and /favicon.ico (which browsers ask for whatever a page links)."""

from django.contrib.staticfiles import finders
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

FAVICON_MAX_AGE = 7 * 24 * 3600


@require_GET
def robots_txt(request):
    """Allow the public pages; keep crawlers out of the admin, the forms and the CSV
    exports (the same data as the pages), and point them at the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /i18n/",
        "Disallow: /submit/",
        "Disallow: /submissions/",
        f"Disallow: {reverse('files:export')}",
        f"Disallow: {reverse('files:relationships_export')}",
        f"Disallow: {reverse('files:records_export')}",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('files:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_GET
def favicon(request):
    """The site's icon (static/favicon.ico; pages also link static/icon.svg)."""
    response = FileResponse(open(finders.find("favicon.ico"), "rb"), content_type="image/x-icon")  # noqa: SIM115  (FileResponse closes it)
    patch_cache_control(response, public=True, max_age=FAVICON_MAX_AGE)
    return response
