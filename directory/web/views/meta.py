"""robots.txt: what crawlers may fetch, and where the sitemap is."""

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET


@require_GET
def robots_txt(request):
    """Allow the public pages; keep crawlers out of the admin, the forms and the CSV
    export (the same data as the listing), and point them at the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /i18n/",
        "Disallow: /submit/",
        "Disallow: /submissions/",
        f"Disallow: {reverse('directory:export')}",
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('directory:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
