"""Root URL map; the public routes are in ``directory/web/urls.py`` (the URL contract).

Pages have a language prefix (``/en/``, ``/zh-hans/``); an address without one (``/``, or
a page as linked before the prefixes) is redirected by ``LanguageRedirectMiddleware`` to the
visitor's language. The API, the admin, the language switch and the files (CSV, sitemap,
robots.txt, favicon, health check) have none."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    # Switching language changes nothing but a cookie, so the form needs no CSRF token;
    # that keeps public pages free of per-visitor tokens and therefore cacheable.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("api/", include("directory.api.urls")),
    path("", include("directory.web.file_urls")),
    *i18n_patterns(path("", include("directory.web.urls"))),
]
handler500 = "directory.web.views.errors.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
