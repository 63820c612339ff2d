"""Faults: the database or the cache going away never shows a traceback, and the app
recovers by itself."""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, override_settings

from chainsite.cache import ResilientRedisCache

pytestmark = pytest.mark.django_db


def test_database_error_gives_a_plain_503_page():
    client = Client(raise_request_exception=False)
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("gone")):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    for leak in (
        "Traceback",
        "OperationalError",
        "gone",
        "SECRET_KEY",
        settings.DATABASES["default"]["NAME"],
    ):
        assert str(leak) not in body


def test_other_errors_give_a_plain_500_page():
    client = Client(raise_request_exception=False)
    with mock.patch("directory.web.views.browse.render", side_effect=RuntimeError("secret detail")):
        response = client.get("/")
    assert response.status_code == 500
    assert (
        "secret detail" not in response.content.decode()
        and "Something went wrong" in response.content.decode()
    )


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "chainsite.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
def test_unreachable_redis_degrades_to_no_cache(client):
    from django.core.cache import caches

    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    cache.set("k", "v")
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200


class _Switch:
    """A TCP forwarder to PostgreSQL that can be turned off and on, standing in for a
    database server that stops and comes back."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.enabled = True
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def off(self):
        self.enabled = False
        for s in self.connections:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.connections = []

    def on(self):
        self.enabled = True

    def close(self):
        self.off()
        self.listener.close()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a database server to stop and restart")
@pytest.mark.django_db(transaction=True)
def test_app_answers_503_while_the_database_is_down_and_recovers_by_itself(tmp_path):
    db = settings.DATABASES["default"]
    switch = _Switch(int(db.get("PORT") or 5432))
    port = socket.create_server(("127.0.0.1", 0))
    app_port = port.getsockname()[1]
    port.close()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{switch.port}/{db['NAME']}",
        "DEBUG": "false",
        "SECRET_KEY": "fault-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "60",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{app_port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{app_port}"
    try:
        for _ in range(100):
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert _get(f"{base}/")[0] == 200  # now in the page cache
        switch.off()
        # A page that needs the database (a search; the listing's first page may come from
        # the index the chain map built) answers the plain 503 page...
        status, body = _get(f"{base}/participants/?q=chips")
        assert status == 503 and "Temporarily unavailable" in body and "Traceback" not in body
        assert _get(f"{base}/healthz")[0] == 503
        # ...while one already in the page cache is still served to anonymous visitors.
        assert _get(f"{base}/")[0] == 200
        switch.on()
        assert _get(f"{base}/healthz")[0] == 200
        assert _get(f"{base}/participants/?q=chips")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        switch.close()


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    COUNT_CACHE_SECONDS=3600,
)
def test_without_a_working_cache_the_indexes_are_not_rebuilt_on_every_request(
    client, small_chain, django_assert_num_queries
):
    """A cache that keeps nothing (Redis down) still gives a stable generation for a
    while, so the in-memory indexes are reused; a change made here renews it at once."""
    from directory.catalog.cache import generation, start_new_generation

    assert generation() == generation()
    client.get("/participants/")  # builds the bitmap index
    # the cards' participants (nothing keeps the cards; their segments come from the
    # index): no index build, and the segments are kept in memory with the index
    with django_assert_num_queries(1):
        assert client.get("/participants/?page=1").status_code == 200
    before = generation()
    start_new_generation()
    assert generation() != before
