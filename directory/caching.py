"""Caching of public pages and of expensive counts, invalidated when the directory changes.

Every cache key carries the directory's current *generation*, a random token that is
replaced after any committed change to segments, participants, offerings, relationships
or tags (``bump_generation``, wired up in ``signals.py`` and called directly after bulk
writes that send no signals). Old entries are never read again and expire by themselves,
so invalidation is a single cache write, correct across processes and hosts when the
cache is Redis.
"""

import functools
import hashlib
import time
import uuid

from asgiref.local import Local
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

GENERATION_KEY = "directory:generation"
# While the cache keeps nothing (Redis down), each process uses a token of its own,
# renewed this often: what the process keeps for a generation (facet_index.py) is then
# rebuilt once a minute rather than on every request, stale by a minute at most.
FALLBACK_SECONDS = 60
_fallback = {"token": "", "until": 0.0}
# Within one request the token is read from the cache once (the page key, the in-memory
# indexes, the card and fragment keys all need it); a change made by the request itself
# renews it. Outside requests (commands, tests' own code) every call reads the cache.
_request = Local()


def _request_began(**kwargs):
    _request.token = None
    _request.active = True


def _request_ended(**kwargs):
    _request.token = None
    _request.active = False


request_started.connect(_request_began, dispatch_uid="directory-generation-begin")
request_finished.connect(_request_ended, dispatch_uid="directory-generation-end")


def generation():
    """The current generation token (created on first use)."""
    if getattr(_request, "active", False):
        if _request.token is None:
            _request.token = _read_generation()
        return _request.token
    return _read_generation()


def _read_generation():
    token = cache.get(GENERATION_KEY)
    if token is None:
        # add() rather than set(): of two processes starting at once, the first one wins;
        # reading back tells whether the cache keeps anything at all.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        token = cache.get(GENERATION_KEY) or _fallback_token()
    return token


def changed_within(seconds):
    """Whether the directory changed in the last ``seconds`` (as far as the current
    generation token says: a token made without a change, on first use, says no)."""
    _, _, changed = generation().partition(".")
    try:
        return time.time() - float(changed) < seconds
    except ValueError:
        return False


def _fallback_token():
    now = time.monotonic()
    if _fallback["until"] <= now:
        _fallback.update(token=uuid.uuid4().hex, until=now + FALLBACK_SECONDS)
    return _fallback["token"]


def bump_generation():
    """Make every cached page and count stale; call after a committed change. The new
    token records when the change was made (``changed_within``)."""
    cache.set(GENERATION_KEY, f"{uuid.uuid4().hex}.{time.time():.3f}", timeout=None)
    _fallback["until"] = 0.0  # this process's own changes show at once even then
    _request.token = None


_process_copy = {}
SHARED_KEY = "directory:shared:{}"


def kept_in_process(name, build, share=False, version=""):
    """``build()``'s value, kept in this process for the directory's current generation
    (built for every call when the counts cache is off): for what is cheaper to keep in
    memory than to fetch from a shared cache, such as the in-memory indexes.

    ``share``: where the cache is shared by the processes (``SHARE_INDEXES``, on with
    Redis), the first process to build the value for a generation also puts it there, one
    copy per ``name`` that the next generation's replaces, and the others take it from
    there instead of building it: a few megabytes unpickled in 10–20 ms where building
    takes 0.2–0.4 s. ``version``: what else the value was built from, which the copy
    taken must match too (the link arrays: the bitmap index they are numbered by).
    """
    if settings.COUNT_CACHE_SECONDS <= 0:
        return build()
    stamp = (generation(), version)
    held = _process_copy.get(name)
    if held is not None and held[0] == stamp:
        return held[1]
    value = _shared(name, stamp, build) if share and settings.SHARE_INDEXES else build()
    _process_copy[name] = (stamp, value)
    return value


# How long a process waits for another's build of a shared value before building its own.
SHARED_BUILD_WAIT = 5.0


def _shared(name, stamp, build):
    key = SHARED_KEY.format(name)
    stored = cache.get(key)
    if stored is not None and stored[0] == stamp:
        return stored[1]
    # After a change the processes' first requests come at once: one builds while the
    # others wait for its copy, rather than all building the same (three processes on two
    # cores each took 1 s instead of 0.4). Should the builder die, its mark expires.
    building = f"{key}:building:{stamp[0]}:{stamp[1]}"
    builder = cache.add(building, 1, timeout=SHARED_BUILD_WAIT)
    if not builder:
        deadline = time.monotonic() + SHARED_BUILD_WAIT
        while cache.get(building) is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        stored = cache.get(key)
        if stored is not None and stored[0] == stamp:
            return stored[1]
    try:
        value = build()
        cache.set(key, (stamp, value), settings.COUNT_CACHE_SECONDS)
    finally:
        if builder:
            cache.delete(building)
    return value


def _key(kind, *parts):
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"directory:{kind}:{generation()}:{digest}"


def cached_value(kind, parts, compute):
    """``compute()``'s value, cached under ``kind`` + ``parts`` for this generation
    (for COUNT_CACHE_SECONDS; 0 computes every time)."""
    if settings.COUNT_CACHE_SECONDS <= 0:
        return compute()
    key = _key(kind, *parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.COUNT_CACHE_SECONDS)
    return value


def _cacheable_request(request):
    """Anonymous GET/HEAD requests only: anyone with a session (curators) sees live pages."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def cache_public_page(view):
    """Serve the view's response from the cache for anonymous visitors, per URL, language
    and htmx-ness; store only plain 200 responses that set no cookie."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        # The host is part of the key: pages carry absolute links (canonical, OpenGraph).
        key = _key(
            "page",
            request.get_host(),
            request.get_full_path(),
            get_language(),
            bool(getattr(request, "htmx", False)),
        )
        stored = cache.get(key)
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
            cache.set(key, (response.content, headers), settings.PAGE_CACHE_SECONDS)
            patch_cache_control(response, public=True, max_age=60)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper
