"""The two languages' addresses: English pages at the addresses the directory always had
(``/participants/nvidia/``), Chinese pages under ``/zh-hans/`` (``/zh-hans/participants/
nvidia/``); ``chainsite/urls.py`` wraps the pages in ``i18n_patterns`` without a prefix
for the default language, so nothing linked before changes its address.

``LanguageRedirectMiddleware`` is Django's ``LocaleMiddleware`` (the language comes from
the address) that also leads visitors to their language:

- ``/`` goes to ``/zh-hans/`` (302) for a visitor who chose Chinese with the switch, or
  whose browser asks for Chinese first (Accept-Language), and is the English home page
  for everyone else;
- any other English page goes to its Chinese address (302) for a visitor who chose
  Chinese with the switch (an explicit choice; a browser's Accept-Language alone does not
  move a visitor off an address someone linked);
- ``/en/…`` (the English prefix some people guess) goes to the unprefixed address (301).

Only GET and HEAD are redirected: a form is never sent elsewhere. Addresses that are not
pages (the admin, the API) speak the visitor's language, as before the prefixes.
"""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import translate_url
from django.utils.translation import (
    activate,
    get_language,
    get_language_from_request,
    get_supported_language_variant,
    override,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

CHINESE = "zh-hans"
ENGLISH_PREFIX = f"/{settings.LANGUAGE_CODE}/"


def _chinese(value):
    """Whether a language cookie or an Accept-Language header asks for Chinese first."""
    first = (value or "").split(",")[0].split(";")[0].strip().lower()
    if not first:
        return False
    try:
        return get_supported_language_variant(first) == CHINESE
    except LookupError:
        return False


def _chinese_address(path):
    """The Chinese address of the English page at ``path``, or None (not a page). The
    path is read as English whatever language the thread's previous request left active
    (Django resolves a path in the active language)."""
    with override(settings.LANGUAGE_CODE):
        translated = translate_url(path, CHINESE)
    return translated if translated != path else None


class LanguageRedirectMiddleware(LocaleMiddleware):
    def process_request(self, request):
        path = request.path_info
        # The Chinese address of an English page, read once; None for anything else.
        prefixed = path.startswith((f"/{CHINESE}/", ENGLISH_PREFIX))
        chinese = None if prefixed else _chinese_address(path)
        if request.method in ("GET", "HEAD"):
            redirect = self._redirect(request, chinese)
            if redirect is not None:
                return redirect
        super().process_request(request)
        # Django gives every address without a prefix the default language; only pages
        # have a language in their address. The rest (the admin, the API) keep the
        # visitor's: their choice, else Accept-Language.
        if chinese is None and not path.startswith(f"/{CHINESE}/"):
            activate(get_language_from_request(request))
            request.LANGUAGE_CODE = get_language()

    def _redirect(self, request, chinese):
        path = request.path_info
        query = request.META.get("QUERY_STRING", "")
        suffix = f"?{query}" if query else ""
        if path.startswith(ENGLISH_PREFIX):
            unprefixed = path[len(ENGLISH_PREFIX) - 1 :]
            if _chinese_address(unprefixed) is not None:
                return HttpResponsePermanentRedirect(unprefixed + suffix)
            return None
        if chinese is None:  # a Chinese page, or not a page
            return None
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        wanted = chosen if chosen else (request.META.get("HTTP_ACCEPT_LANGUAGE") if path == "/" else "")
        if not _chinese(wanted):
            return None
        response = HttpResponseRedirect(chinese + suffix)
        response["Vary"] = "Accept-Language, Cookie"
        return response


def alternates(request, languages):
    """``[(hreflang, absolute URL)]`` of this page in each language, the query string
    kept, and ``x-default`` (the English address, where ``/`` also leads Chinese
    browsers to Chinese). Empty where the address has no language (a file, the API)."""
    path = request.get_full_path()
    found = []
    for code, _name in languages:
        url = translate_url(path, code)
        found.append((code, request.build_absolute_uri(url)))
    if all(url == request.build_absolute_uri(path) for _code, url in found):
        return []  # the same address in every language: not a page
    found.append(("x-default", dict(found)[settings.LANGUAGE_CODE]))
    return found


@csrf_exempt  # switching language changes nothing but a cookie: public pages stay free of tokens
def switch_language(request):
    """Django's ``set_language`` (the cookie, and a safe ``next``), sending the visitor to
    ``next`` in the chosen language: Django cannot translate a Chinese address back to
    English while English, the unprefixed language, is active."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if response.status_code != 302 or language not in dict(settings.LANGUAGES):
        return response
    parts = urlsplit(response["Location"])
    path = parts.path
    if path == f"/{CHINESE}" or path.startswith(f"/{CHINESE}/"):
        path = path[len(CHINESE) + 1 :] or "/"
    if language != settings.LANGUAGE_CODE:
        with override(settings.LANGUAGE_CODE):  # the path is English, whatever is active
            path = translate_url(path, language)
    response["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))
    return response
