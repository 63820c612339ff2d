"""CSV in the admin: upload, dry-run preview, confirm; export the selection."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from directory.csvio import EXPORT_COLUMNS
from directory.models import Participant
from tests.conftest import make_participant
from tests.curation import make_user

pytestmark = pytest.mark.django_db

URL = "/admin/directory/participant/import-csv/"
HEADER = "name_en,name_zh,segment,website,country,founded,open_source,description_en"
GOOD = f"""{HEADER},slug
Acme Chips,艾克米,ai-chips,https://acme.example.com/,US,2001,no,Makes chips.,acme-chips
Existing Co,,foundation-models,https://existing.example.com/,US,,no,Updated description.,existing
"""


@pytest.fixture
def editor_client(client):
    client.force_login(make_user("edith", "Editors"))
    return client


def _upload(client, text, name="participants.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def test_the_changelist_links_to_the_import_page(editor_client):
    page = editor_client.get("/admin/directory/participant/").content.decode()
    assert f'href="{URL}"' in page
    assert editor_client.get(URL).status_code == 200


def test_preview_reports_the_dry_run_and_writes_nothing(editor_client):
    make_participant("existing", ("foundation-models",), name_en="Existing Co")
    before = list(Participant.objects.values_list("slug", "description_en", "updated_at"))

    response = _upload(editor_client, GOOD)

    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts == {"create": 1, "update": 1, "unchanged": 0, "error": 0}
    text = response.content.decode()
    assert "Confirm and import" in text and "description_en" in text  # the update's changed field
    assert list(Participant.objects.values_list("slug", "description_en", "updated_at")) == before


def test_the_preview_names_each_row_and_shows_old_and_new_values(editor_client):
    make_participant("existing", ("foundation-models",), name_en="Existing Co", founded=1999)
    text = (
        f"{HEADER},slug\n"
        "Existing Co,现有公司,foundation-models|ai-chips,https://existing.example.com/,US,2001,no,"
        "Updated description.,existing\n"
        "Broken Org,,no-such-segment,https://broken.example.com/,US,,no,x,\n"
        ",坏机构,ai-chips,https://zh.example.com/,XX,,no,x,\n"
    )
    body = _upload(editor_client, text).content.decode()
    rows = re.findall(r'<tr class="import-(\w+)">(.*?)</tr>', body, re.S)
    assert [action for action, _ in rows] == ["update", "error", "error"]
    update, broken, chinese = (cells for _, cells in rows)
    assert "Existing Co<br><code>existing</code>" in update
    for change in (
        "<strong>name_zh</strong>: <del>—</del> → <ins>现有公司</ins>",
        "<strong>founded</strong>: <del>1999</del> → <ins>2001</ins>",
        "<strong>description_en</strong>: <del>existing description.</del> → <ins>Updated description.</ins>",
        "<strong>offerings</strong>: <del>foundation-models:Existing Co offering</del> → "
        "<ins>ai-chips:Existing Co|foundation-models:Existing Co offering</ins>",
    ):
        assert change in update, change
    assert "<td>Broken Org</td>" in broken and "unknown segment no-such-segment" in broken
    assert "<td>坏机构</td>" in chinese and "XX is not an ISO" in chinese


def test_confirm_imports_what_was_previewed(editor_client):
    make_participant("existing", ("foundation-models",), name_en="Existing Co")
    digest = _upload(editor_client, GOOD).context["digest"]

    response = editor_client.post(URL, {"confirm": "1", "digest": digest})

    assert response.status_code == 302 and response["Location"] == "/admin/directory/participant/"
    acme = Participant.objects.get(slug="acme-chips")
    assert acme.name_zh == "艾克米" and acme.offerings.get().segment.slug == "ai-chips"
    assert Participant.objects.get(slug="existing").description_en == "Updated description."
    assert acme.history.get().history_user.username == "edith"
    # The stored file is used once: confirming again does nothing.
    response = editor_client.post(URL, {"confirm": "1", "digest": digest}, follow=True)
    assert "no longer available" in response.content.decode()
    assert Participant.objects.count() == 2


def test_rows_with_errors_are_listed_by_line_and_cannot_be_confirmed(editor_client):
    bad = f"{HEADER}\nGood,,ai-chips,https://good.example.com/,US,,no,Fine.\nBad,,no-such-segment,https://b.example.com/,XX,,maybe,x\n"
    response = _upload(editor_client, bad)
    text = response.content.decode()
    assert response.context["counts"]["error"] == 1
    assert "<td>3</td>" in text and "unknown segment no-such-segment" in text and "XX is not an ISO" in text
    assert "Confirm and import" not in text and response.context["digest"] == ""
    assert editor_client.post(URL, {"confirm": "1", "digest": "anything"}).status_code == 302
    assert not Participant.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf-8", "not valid UTF-8"),
        (b"name_en,website\nX,https://x.example.com/\n", "missing required column"),
        (b"", "The submitted file is empty"),
    ],
)
def test_unreadable_files_get_a_clear_message(editor_client, content, message):
    response = editor_client.post(URL, {"file": SimpleUploadedFile("x.csv", content)})
    assert response.status_code == 200 and message in response.content.decode()
    assert "Confirm and import" not in response.content.decode()
    assert not Participant.objects.exists()


def test_a_confirm_with_another_files_digest_writes_nothing(editor_client):
    _upload(editor_client, GOOD)
    response = editor_client.post(URL, {"confirm": "1", "digest": "0" * 64})
    assert response.status_code == 302 and response["Location"] == URL
    assert not Participant.objects.exists()


def test_export_selected_writes_the_import_format(editor_client, small_chain):
    chosen = [small_chain["nvidia"].pk, small_chain["zhipu"].pk]
    response = editor_client.post(
        "/admin/directory/participant/", {"action": "export_csv", "_selected_action": chosen}
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == EXPORT_COLUMNS
    assert [r[EXPORT_COLUMNS.index("slug")] for r in rows[1:]] == ["nvidia", "zhipu-ai"]
    assert rows[1][EXPORT_COLUMNS.index("name_zh")] == "英伟达"
