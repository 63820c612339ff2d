"""Root URL map; the public routes are in ``directory/urls.py`` (the URL contract)."""

from django.conf import settings
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
    path("", include("directory.web.urls")),
]
handler500 = "directory.web.views.errors.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
