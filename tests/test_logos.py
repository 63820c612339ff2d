"""Participant logos: Pillow-validated PNG/JPEG/WebP, stored via STORAGES, shown as a thumbnail."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from directory import logos
from directory.models import Participant
from tests.conftest import make_participant
from tests.curation import make_user

pytestmark = pytest.mark.django_db

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _image(fmt, size=(300, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _upload(content, name):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "a.png"), ("JPEG", "a.jpg"), ("WEBP", "a.webp")])
def test_png_jpeg_and_webp_are_accepted(fmt, name):
    logos.validate_logo(_upload(_image(fmt), name))


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (SVG, "logo.svg", "SVG logos are not accepted"),
        (SVG, "logo.png", "SVG logos are not accepted"),  # the name does not matter
        (_image("GIF"), "logo.gif", "GIF images are not accepted"),
        (_image("BMP"), "logo.png", "BMP images are not accepted"),
        (b"%PDF-1.4 not an image", "logo.png", "not a PNG, JPEG or WebP image"),
        (_image("PNG")[:40], "logo.png", "not a PNG, JPEG or WebP image"),  # truncated
        (_image("PNG", (2500, 10)), "wide.png", "the limit is 2000×2000"),
        (b"\x89PNG" + b"0" * (logos.MAX_LOGO_BYTES + 1), "big.png", "the limit is 1.0"),
    ],
)
def test_anything_else_is_refused(content, name, message):
    with pytest.raises(ValidationError, match=message):
        logos.validate_logo(_upload(content, name))


def _post_logo(client, participant, upload):
    form = {
        "name_en": participant.name_en,
        "slug": participant.slug,
        "status": participant.status,
        "website": participant.website,
        "country": participant.country,
        "kind": participant.kind,
        "open_source": participant.open_source,
        "logo": upload,
    }
    for prefix in ("offerings", "supplied_by", "supplies", "records"):
        form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return client.post(f"/admin/directory/participant/{participant.pk}/change/", form)


def test_an_uploaded_logo_is_stored_with_a_128px_thumbnail(client, media):
    participant = make_participant("logoco", name_en="Logo Co")
    assert participant.logo_url == "" and participant.monogram == "LC"
    client.force_login(make_user("edith", "Editors"))

    response = _post_logo(client, participant, _upload(_image("JPEG", (600, 300)), "logo.jpg"))

    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.logo.name.startswith("logos/")
    assert (media / participant.logo.name).exists()
    assert participant.logo_url == f"/media/logos/thumbs/{participant.logo.name.split('/')[-1]}.png"
    with Image.open(media / "logos" / "thumbs" / f"{participant.logo.name.split('/')[-1]}.png") as thumb:
        assert thumb.format == "PNG" and thumb.size == (128, 64)
    # The listing's card (built from the stored file name, not the model) shows it too.
    card = client.get("/participants/").content.decode().split('<article class="card">')[1]
    assert f'<img class="mark" src="{participant.logo_url}"' in card and "mark-" not in card


def test_an_svg_upload_is_refused_in_the_admin_and_nothing_is_stored(client, media):
    participant = make_participant("svgco")
    client.force_login(make_user("edith", "Editors"))
    response = _post_logo(client, participant, _upload(SVG, "logo.svg"))
    assert response.status_code == 200
    assert "SVG logos are not accepted" in response.content.decode()
    assert not Participant.objects.get(pk=participant.pk).logo
    assert not (media / "logos").exists()
