"""Root URL map; the public routes are in ``directory/web/urls.py`` (the URL contract).

English pages are at their addresses without a prefix, Chinese pages under ``/zh-hans/``
(``i18n_patterns`` without a prefix for the default language); ``LanguageRedirectMiddleware``
leads visitors to their language (directory/web/language.py). The API, the admin, the
language switch and the files (CSV, sitemap, robots.txt, favicon, health check) have no
language (directory/web/file_urls.py)."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/", include("directory.api.urls")),
    path("", include("directory.web.file_urls")),
    *i18n_patterns(path("", include("directory.web.urls")), prefix_default_language=False),
]
handler500 = "directory.web.views.errors.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
