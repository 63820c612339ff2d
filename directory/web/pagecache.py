"""The anonymous page cache: whole public pages kept until the directory changes."""

import functools

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

from directory.catalog.cache import page_entry


def _cacheable_request(request):
    """Anonymous GET/HEAD requests only: anyone with a session (curators) sees live pages."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def cache_public_page(view):
    """Serve the view's response from the cache for anonymous visitors, per host, URL,
    language and htmx-ness; store only plain 200 responses that set no cookie."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        # The host is part of the key: pages carry absolute links (canonical, OpenGraph).
        entry = page_entry(
            request.get_host(), request.get_full_path(), get_language(), bool(getattr(request, "htmx", False))
        )
        stored = entry.get()
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content, headers=headers)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            if hasattr(response, "render") and callable(response.render):
                response.render()
            headers = {
                k: v for k, v in response.items() if k.lower() in ("content-type", "vary", "content-language")
            }
            entry.set((response.content, headers), settings.PAGE_CACHE_SECONDS)
            patch_cache_control(response, public=True, max_age=60)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
