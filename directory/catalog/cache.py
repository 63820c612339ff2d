"""How the catalog keeps answers, and the one place where they are invalidated.

Every cached answer (a page, a chain map, a search window, an in-memory index) is stored
under the directory's current *generation*, a random token replaced after any committed
change to what public pages show. Old entries are never read again and expire by
themselves, so invalidation is one cache write, correct across processes and hosts when
the cache is Redis.

Every write path ends here: model saves and deletes through the signals connected by
``connect_invalidation`` (the admin, approvals, forms), bulk writes that send no signals
(imports, synthetic data) by calling ``directory_changed`` themselves. Callers outside
the catalog never see a generation or a key: they ask ``remember``, ``remember_each`` or
``page_entry`` with the parts that make an answer different.
"""

import hashlib
import time
import uuid

from asgiref.local import Local
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "directory:generation"
# While the cache keeps nothing (Redis down), each process uses a token of its own,
# renewed this often: what the process keeps for a generation is then rebuilt once a
# minute rather than on every request, stale by a minute at most.
FALLBACK_SECONDS = 60
_fallback = {"token": "", "until": 0.0}
# Within one request the token is read from the cache once; a change made by the request
# itself renews it. Outside requests (commands, tests' own code) every call reads the cache.
_request = Local()

# The models whose rows public pages, the API and the feeds show: a committed change to
# any of them starts a new generation. ``NOT_SHOWN`` are the directory's models that
# public reads never show (a test fails when a model is in neither list).
SHOWN = (
    "Segment",
    "Tag",
    "Participant",
    "Participant_tags",
    "Offering",
    "Relationship",
    "Relationship_sources",
    "Source",
    "RecordKind",
    "Record",
    "Record_sources",
)
NOT_SHOWN = ("Submission",)


def _request_began(**kwargs):
    _request.token = None
    _request.active = True
    _request.kept = {}


def _request_ended(**kwargs):
    _request.token = None
    _request.active = False
    _request.kept = {}


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


def _fallback_token():
    now = time.monotonic()
    if _fallback["until"] <= now:
        _fallback.update(token=uuid.uuid4().hex, until=now + FALLBACK_SECONDS)
    return _fallback["token"]


def changed_within(seconds):
    """Whether the directory changed in the last ``seconds`` (as far as the current
    generation token says: a token made without a change, on first use, says no)."""
    _, _, changed = generation().partition(".")
    try:
        return time.time() - float(changed) < seconds
    except ValueError:
        return False


def start_new_generation():
    """Make every cached answer stale at once. The new token records when the change was
    made (``changed_within``). Writers call ``directory_changed`` instead, which waits for
    the commit."""
    cache.set(GENERATION_KEY, f"{uuid.uuid4().hex}.{time.time():.3f}", timeout=None)
    _fallback["until"] = 0.0  # this process's own changes show at once even then
    _request.token = None
    _request.kept = {}


def directory_changed():
    """Call after a write that public reads show; the new generation starts when the
    surrounding transaction commits (at once outside one)."""
    transaction.on_commit(start_new_generation, robust=True)


def _changed(sender, **kwargs):
    directory_changed()


def shown_models():
    """The directory's model classes named in ``SHOWN`` (the tags' through table included)."""
    models = {m.__name__: m for m in apps.get_app_config("directory").get_models(include_auto_created=True)}
    return [models[name] for name in SHOWN]


def connect_invalidation():
    """Connect every model in ``SHOWN`` so that a committed save or delete (and a change
    of a participant's tags) starts a new generation."""
    for model in shown_models():
        uid = f"directory-invalidate-{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}-delete")
        m2m_changed.connect(_changed, sender=model, dispatch_uid=f"{uid}-m2m")


_process_copy = {}
SHARED_KEY = "directory:shared:{}"
# How long a process waits for another's build of a shared value before building its own.
SHARED_BUILD_WAIT = 5.0


def kept_in_process(name, build, share=False, version=""):
    """``build()``'s value, kept in this process for the current generation (built for
    every call when the counts cache is off): for what is cheaper to keep in memory than
    to fetch from a shared cache, such as the in-memory indexes.

    ``share``: where the cache is shared by the processes (``SHARE_INDEXES``, on with
    Redis), the first process to build the value for a generation also puts it there, one
    copy per ``name`` that the next generation's replaces, and the others take it from
    there instead of building it: a few megabytes unpickled in 10–20 ms where building
    takes 0.2–0.4 s. ``version``: what else the value was built from, which the copy
    taken must match too.

    With the counts cache off, a value is still built once per request, not per use.
    """
    if settings.COUNT_CACHE_SECONDS <= 0:
        if not getattr(_request, "active", False):
            return build()
        key = (name, version)
        if key not in _request.kept:
            _request.kept[key] = build()
        return _request.kept[key]
    stamp = (generation(), version)
    held = _process_copy.get(name)
    if held is not None and held[0] == stamp:
        return held[1]
    value = _shared(name, stamp, build) if share and settings.SHARE_INDEXES else build()
    _process_copy[name] = (stamp, value)
    return value


def forget_in_process():
    """Drop what this process keeps (``kept_in_process``): it then reads or builds each
    value afresh, as a newly started server process does."""
    _process_copy.clear()


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


def _key(kind, parts):
    digest = hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"directory:{kind}:{generation()}:{digest}"


def remember(kind, parts, compute):
    """``compute()``'s value, kept under ``kind`` and ``parts`` until the directory
    changes (for COUNT_CACHE_SECONDS; 0 computes every time). ``None`` is not kept."""
    if settings.COUNT_CACHE_SECONDS <= 0:
        return compute()
    key = _key(kind, parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        if value is not None:
            cache.set(key, value, settings.COUNT_CACHE_SECONDS)
    return value


def remember_each(kind, parts, items, compute_missing):
    """``{item: value}`` for each of ``items``, each kept under ``kind``, ``parts`` and the
    item until the directory changes: one cache round trip for all, and
    ``compute_missing(items)`` (a dict) for the ones not kept yet."""
    seconds = settings.COUNT_CACHE_SECONDS
    if seconds <= 0:
        return compute_missing(list(items))
    prefix = _key(kind, parts)
    keys = {item: f"{prefix}:{item}" for item in items}
    found = cache.get_many(list(keys.values()))
    values = {item: found[key] for item, key in keys.items() if key in found}
    missing = [item for item in items if item not in values]
    if missing:
        fresh = compute_missing(missing)
        cache.set_many({keys[item]: value for item, value in fresh.items()}, seconds)
        values.update(fresh)
    return values


class PageEntry:
    """Where a whole public page is kept (``web/pagecache.py``) until the directory
    changes: ``get()`` and ``set(value, seconds)``."""

    def __init__(self, parts):
        self.key = _key("page", parts)

    def get(self):
        return cache.get(self.key)

    def set(self, value, seconds):
        cache.set(self.key, value, seconds)


def page_entry(*parts):
    return PageEntry(parts)
