"""Markup the Nu Html Checker accepts: htmx in its valid ``data-hx-*`` form, headings that
do not skip a level."""

import itertools
import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC = Path(settings.BASE_DIR) / "static"
# An htmx attribute not written as data-hx-* (hx-get, hx-swap, hx-on:click, ...).
BARE_HX = re.compile(r"(?<![\w-])hx-[a-z]", re.I)


def test_no_template_or_script_uses_bare_hx_attributes():
    files = [*TEMPLATES.rglob("*.html"), *STATIC.rglob("*.js")]
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BARE_HX.search(line)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_listing_pages_carry_only_data_hx_attributes(client, small_chain):
    for url in ("/participants/", "/participants/?q=chip", "/segments/ai-chips/"):
        body = client.get(url).content.decode()
        assert 'data-hx-get="' in body, url
        assert not BARE_HX.search(body), url


@pytest.mark.django_db
def test_favicon_ico_and_an_svg_icon(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=604800" in response["Cache-Control"]
    body = client.get("/participants/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="16x16 32x32 48x48">' in body
    assert '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">' in body
    assert (STATIC / "icon.svg").read_text().startswith("<svg")


HEADING = re.compile(r"<h([1-6])[\s>]")


@pytest.mark.django_db
def test_headings_never_skip_a_level(client, small_chain):
    """Each page starts at h1 and goes down one level at a time (the submission form went
    from h1 to h3)."""
    from tests.submission_data import correction, new_listing

    status = client.post("/submit/", new_listing())["Location"]
    fix = client.post("/participants/nvidia/suggest/", correction(small_chain["nvidia"], founded="1993"))
    pages = [
        "/",
        "/segments/ai-chips/",
        "/participants/",
        "/participants/?q=chip",
        "/participants/nvidia/",
        "/submit/",
        "/participants/nvidia/suggest/",
        status,
        fix["Location"],
        "/no-such-page/",
    ]
    for url in pages:
        levels = [int(level) for level in HEADING.findall(client.get(url).content.decode())]
        assert levels and levels[0] == 1, url
        jumps = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert jumps == [], (url, levels)
