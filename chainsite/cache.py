"""A Redis cache that degrades to "no cache" when Redis is unreachable.

Pages, rate limits and throttles all go through Django's cache. If Redis stops, a plain
RedisCache raises on every request; this backend logs the failure and behaves as an
empty cache instead (reads miss, writes are dropped), so the site keeps serving.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_FAILURES = (RedisError, OSError)


class ResilientRedisCache(RedisCache):
    """RedisCache whose operations never raise because Redis is down."""

    def _failed(self, operation, exc):
        logger.warning("cache %s failed, continuing without cache: %s", operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _FAILURES as exc:
            self._failed("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _FAILURES as exc:
            self._failed("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _FAILURES as exc:
            self._failed("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _FAILURES as exc:
            self._failed("add", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except _FAILURES as exc:
            self._failed("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _FAILURES as exc:
            self._failed("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _FAILURES as exc:
            self._failed("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _FAILURES as exc:
            self._failed("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except _FAILURES as exc:
            self._failed("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        """As Django documents, a missing key raises ValueError; an unreachable Redis
        does the same, so callers count "not yet counted" rather than crash."""
        try:
            return super().incr(key, delta, version)
        except _FAILURES as exc:
            self._failed("incr", exc)
            raise ValueError(f"cache unavailable, {key!r} not counted") from exc

    def clear(self):
        try:
            return super().clear()
        except _FAILURES as exc:
            self._failed("clear", exc)
            return False
