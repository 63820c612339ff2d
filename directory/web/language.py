"""Language-prefixed addresses (``/en/…``, ``/zh-hans/…``).

``LanguageRedirectMiddleware`` is Django's ``LocaleMiddleware`` (the language from the
address, else the visitor's choice, else Accept-Language) whose redirect of an address
without a prefix to the prefixed one is permanent (301), so every page linked before the
prefixes keeps its address; ``/`` alone is redirected temporarily (302): where it leads
depends on the visitor's language; a form sent to an old address is redirected with 308,
which browsers follow with the same method and data.
"""

from django.http import HttpResponsePermanentRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import translate_url


class LanguageRedirectMiddleware(LocaleMiddleware):
    response_redirect_class = HttpResponsePermanentRedirect

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if response.status_code == HttpResponsePermanentRedirect.status_code:
            if request.method not in ("GET", "HEAD"):
                response.status_code = 308  # a form sent to an old address is sent again, not lost
            elif request.path_info == "/":
                response.status_code = 302
        return response


def alternates(request, languages):
    """``[(hreflang, absolute URL)]`` of this page in each language, the query string
    kept, and ``x-default``: its address without a prefix, which leads each visitor to
    their language (as in the sitemap). Empty where the page has no language."""
    path = request.get_full_path()
    found = []
    for code, _name in languages:
        url = translate_url(path, code)
        if url == path and not path.startswith(f"/{code}/"):
            return []  # not a page with a language prefix
        found.append((code, request.build_absolute_uri(url)))
        if path.startswith(f"/{code}/"):
            unprefixed = path[len(code) + 1 :]
    found.append(("x-default", request.build_absolute_uri(unprefixed)))
    return found
