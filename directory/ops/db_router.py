"""Reads from read replicas, writes to the primary, when ``DATABASE_REPLICA_URLS`` names
replicas (settings.py); without it there is one database and no router.

A read goes to the primary instead of a replica whenever it may need data that a replica
has not received yet:

- in a request (or a command) that has written: every read after its first write (Django
  also asks for the write database to check a model's constraints, so a form that
  validates against the database counts as writing: safe, at the cost of a few reads);
- from a client that wrote within the last ``REPLICA_LAG_SECONDS``: the response to a
  request that wrote carries a short-lived cookie (``PrimaryAfterWriteMiddleware``), so
  the submission status page after a submit, or the admin after a save, is read from the
  primary;
- for ``REPLICA_LAG_SECONDS`` after any change to the directory (a new cache generation,
  directory/catalog/cache.py): what is kept for the new generation (the in-memory indexes, the
  rendered cards, the counts) is built from the primary, not from a replica that may not
  have the change yet and would then serve it stale until the next change.
"""

import random

from asgiref.local import Local
from django.conf import settings
from django.core.signals import request_finished, request_started

COOKIE = "chainsite_primary"
_state = Local()


def _reset(**kwargs):
    _state.wrote = False
    _state.client_wrote = False


request_started.connect(_reset, dispatch_uid="chainsite-db-router-begin")
request_finished.connect(_reset, dispatch_uid="chainsite-db-router-end")


def wrote():
    """Whether this request (or command) has written to the primary."""
    return getattr(_state, "wrote", False)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if wrote() or getattr(_state, "client_wrote", False) or _directory_changed_lately():
            return "default"
        return random.choice(settings.REPLICA_DATABASES)

    def db_for_write(self, model, **hints):
        _state.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas hold the primary's data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # replicas follow the primary's schema by replication


def _directory_changed_lately():
    from directory.catalog.cache import changed_within

    return changed_within(settings.REPLICA_LAG_SECONDS)


class PrimaryAfterWriteMiddleware:
    """Reads of a client that wrote in the last ``REPLICA_LAG_SECONDS`` go to the primary
    (see the module's docstring). Does nothing without replicas."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.REPLICA_DATABASES:
            return self.get_response(request)
        _state.client_wrote = COOKIE in request.COOKIES
        response = self.get_response(request)
        if wrote():
            response.set_cookie(
                COOKIE,
                "1",
                max_age=settings.REPLICA_LAG_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
