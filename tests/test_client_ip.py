"""Behind our own proxies (TRUSTED_PROXY_COUNT) the client is read from X-Forwarded-For,
for the submission limit, the API throttle and the admin lockout alike; what a client
writes into the header itself is never trusted."""

import pytest
from django.test import RequestFactory, override_settings

from directory.models import Submission
from directory.web.client_ip import client_ip
from tests.submission_data import new_listing


def _request(remote="10.0.0.5", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_the_header_is_ignored():
    assert client_ip(_request(forwarded="203.0.113.7")) == "10.0.0.5"


def test_a_request_without_an_address_has_none():
    # (django-axes then records no address; an address column rejects "unknown")
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_takes_the_address_it_appended():
    assert client_ip(_request(forwarded="203.0.113.7")) == "203.0.113.7"
    # A client that sends its own header cannot choose its address: the proxy appends.
    assert client_ip(_request(forwarded="1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request(forwarded="")) == "10.0.0.5"
    assert client_ip(_request(forwarded="not-an-address")) == "10.0.0.5"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_proxies_take_the_second_from_the_right():
    assert client_ip(_request(forwarded="1.2.3.4, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"
    assert client_ip(_request(forwarded="203.0.113.7")) == "203.0.113.7"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1, SUBMISSION_RATE_LIMIT=1)
def test_submission_limit_counts_clients_not_the_load_balancer(client):
    def send(n, forwarded):
        return client.post(
            "/submit/",
            new_listing(name_en=f"Org {n}", name_zh="", website=f"https://org{n}.example/"),
            REMOTE_ADDR="10.0.0.5",  # the load balancer, for everyone
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    assert send(1, "203.0.113.7").status_code == 302
    assert send(2, "198.51.100.4").status_code == 302  # another client behind the same proxy
    assert send(3, "203.0.113.7").status_code == 429
    assert send(4, "9.9.9.9, 203.0.113.7").status_code == 429  # a forged entry changes nothing
    assert Submission.objects.count() == 2


def test_the_admin_lockout_and_the_api_throttle_use_the_same_rule(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "directory.web.client_ip.client_ip"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_locked_out_address_behind_the_proxy_does_not_lock_out_the_others(client):
    from django.conf import settings
    from django.contrib.auth.models import User

    User.objects.create_user("other", password="right-horse-battery-staple", is_staff=True)

    def login(username, password, forwarded):
        return client.post(
            f"/{settings.ADMIN_URL}login/?next=/{settings.ADMIN_URL}",
            {"username": username, "password": password},
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        login(f"guess{n}", "wrong", "203.0.113.7")  # one attacker, many usernames
    assert login("guess-more", "wrong", "203.0.113.7").status_code == 429  # locked by address
    response = login("other", "right-horse-battery-staple", "198.51.100.4")
    assert response.status_code == 302  # another client of the same proxy logs in
