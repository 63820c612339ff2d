"""/participants/<slug>/suggest/: a correction stores only what changed, and publishes nothing."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from directory.models import Participant, Submission
from tests.conftest import make_participant
from tests.submission_data import correction

pytestmark = pytest.mark.django_db

ORIGINAL_KEYS = {
    "name_en",
    "name_zh",
    "website",
    "country",
    "founded",
    "open_source",
    "description_en",
    "description_zh",
    "kind",
}


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def nvidia(db):
    return make_participant(
        "nvidia",
        name_en="NVIDIA",
        name_zh="英伟达",
        website="https://www.nvidia.com/",
        founded=1993,
        description_en="Designs GPUs.\nAnd systems.",
    )


def test_form_is_prefilled_with_the_current_public_values(client, nvidia, django_assert_max_num_queries):
    # the published participant; segments for the new offering rows; kinds of record
    # for the new record rows; published participants for the supply links' slug suggestions
    with django_assert_max_num_queries(4):
        response = client.get("/participants/nvidia/suggest/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="name_en" value="NVIDIA"' in body
    assert 'name="name_zh" value="英伟达"' in body
    assert 'value="https://www.nvidia.com/"' in body
    assert 'name="founded" value="1993"' in body
    assert '<option value="US" selected>' in body
    assert "Designs GPUs.\nAnd systems.</textarea>" in body
    assert 'name="submitter_email"' in body and 'name="note"' in body


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_only_published_participants_can_be_corrected(client, db, status):
    make_participant("hidden", status=status)
    assert client.get("/participants/hidden/suggest/").status_code == 404
    assert client.post("/participants/hidden/suggest/", {}).status_code == 404
    assert client.get("/participants/no-such-org/suggest/").status_code == 404


def test_correction_stores_only_the_changed_fields_and_the_originals(
    client, nvidia, django_assert_max_num_queries
):
    before = list(Participant.objects.values())
    # CRLF from the browser in an unchanged description is not a change.
    post = correction(
        nvidia, founded="1994", name_zh="英伟达公司", description_en="Designs GPUs.\r\nAnd systems."
    )
    # participant; segments (for the offering rows, though none is sent); kinds of record
    # (for the record rows); 5 participant CHECK probes and 1 relation probe (3 statements
    # each, see test_submit); INSERT in a savepoint
    with django_assert_max_num_queries(1 + 1 + 1 + 6 * 3 + 3):
        response = client.post("/participants/nvidia/suggest/", post, REMOTE_ADDR="203.0.113.5")
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/submissions/{submission.token}/"
    assert submission.kind == "correction" and submission.status == "pending"
    assert submission.participant == nvidia
    assert submission.data == {"founded": 1994, "name_zh": "英伟达公司"}
    assert set(submission.original) == ORIGINAL_KEYS
    assert submission.original["founded"] == 1993
    assert submission.original["name_zh"] == "英伟达"
    assert submission.original["description_en"] == "Designs GPUs.\nAnd systems."
    assert submission.note == "Source: our press page."
    assert submission.ip_address == "203.0.113.5"
    assert list(Participant.objects.values()) == before  # nothing published


def test_clearing_a_field_is_a_change(client, nvidia):
    client.post("/participants/nvidia/suggest/", correction(nvidia, founded="", website=""))
    assert Submission.objects.get().data == {"founded": None, "website": ""}


def test_no_change_is_refused_with_a_message(client, nvidia):
    response = client.post("/participants/nvidia/suggest/", correction(nvidia, note="All good"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing has changed" in body
    assert "All good</textarea>" in body
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "typed", "error"),
    [
        ({"website": "gopher://nvidia.com"}, "gopher://nvidia.com", "Enter a web address"),
        ({"country": "ZZ"}, "英伟达", "Choose a country from the list"),
        ({"founded": "1500"}, 'value="1500"', "Enter a year from 1800 to"),
        ({"name_en": "", "name_zh": ""}, "Designs GPUs.", "Give the name in at least one language"),
        ({"description_zh": "长" * 4001}, "长" * 4001, "at most 4000 characters"),
        ({"submitter_email": ""}, 'value="NVIDIA"', "This field is required"),
    ],
)
def test_each_validation_error_writes_nothing_and_keeps_what_was_typed(client, nvidia, fields, typed, error):
    response = client.post("/participants/nvidia/suggest/", correction(nvidia, **fields))
    assert response.status_code == 200
    body = response.content.decode()
    assert error in body and typed in body
    assert 'class="field has-error' in body
    assert Submission.objects.count() == 0


def test_honeypot_correction_is_stored_as_spam(client, nvidia):
    response = client.post("/participants/nvidia/suggest/", correction(nvidia, founded="1999", phone="1"))
    assert response.status_code == 302
    assert Submission.objects.get().status == "spam"


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", CURATOR_EMAILS=[])
def test_submitter_gets_the_status_link_even_without_curator_addresses(
    client, nvidia, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/participants/nvidia/suggest/", correction(nvidia, founded="1994"))
    (confirmation,) = mail.outbox
    assert Submission.objects.get().token in confirmation.body
    assert "correction" in confirmation.body and "NVIDIA" in confirmation.subject


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", CURATOR_EMAILS=["c@chainsite.example"]
)
def test_curators_see_each_change_in_the_mail(client, nvidia, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/participants/nvidia/suggest/", correction(nvidia, founded="1994"))
    curator, _confirmation = mail.outbox
    assert curator.subject == "[chainsite] New submission: NVIDIA"
    assert "- founded: 1993 -> 1994" in curator.body


# New offerings and supply links ---------------------------------------------------


def _with_rows(post, offerings=(), suppliers=(), customers=()):
    """``post`` plus offering rows and supplier/customer link rows, as the browser sends them."""
    post = dict(post)
    rows = [*offerings, {}]
    post.update({"offerings-TOTAL_FORMS": str(len(rows)), "offerings-INITIAL_FORMS": "0"})
    for i, row in enumerate(rows):
        for name in ("segment", "name", "description", "url"):
            post[f"offerings-{i}-{name}"] = row.get(name, "")
    for prefix, links in (("suppliers", suppliers), ("customers", customers)):
        post[f"{prefix}-TOTAL_FORMS"] = str(len(links) + 1)
        post[f"{prefix}-INITIAL_FORMS"] = "0"
        for i, (slug, kind) in enumerate([*links, ("", "")]):
            post[f"{prefix}-{i}-participant"] = slug
            post[f"{prefix}-{i}-kind"] = kind
    return post


@pytest.fixture
def azure(nvidia):
    azure = make_participant("azure", ("cloud-compute",), name_en="Microsoft Azure")
    make_participant("openai", ("foundation-models",), name_en="OpenAI")
    nvidia.supplies.create(customer=azure, kind="chips")
    return azure


def test_the_form_offers_new_offerings_and_supply_links(client, nvidia):
    body = client.get("/participants/nvidia/suggest/").content.decode()
    names = ["offerings-TOTAL_FORMS", "offerings-0-segment", "offerings-0-name", "offerings-0-url"]
    names += [f"{side}-0-{field}" for side in ("suppliers", "customers") for field in ("participant", "kind")]
    for name in names:
        assert f'name="{name}"' in body, name
    assert "New offerings (optional)" in body and "New supply links (optional)" in body
    assert '<datalist id="participant-slugs">' in body


def test_a_correction_may_only_add_an_offering_and_links(client, azure, nvidia):
    post = _with_rows(
        correction(nvidia),
        offerings=[{"segment": "cloud-compute", "name": "DGX Cloud", "url": "https://nvidia.com/dgx"}],
        suppliers=[("azure", "compute")],
        customers=[("openai", "chips")],
    )
    response = client.post("/participants/nvidia/suggest/", post)
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.data == {
        "offerings": [
            {
                "segment": "cloud-compute",
                "name": "DGX Cloud",
                "description": "",
                "url": "https://nvidia.com/dgx",
            }
        ],
        "suppliers": [{"participant": "azure", "kind": "compute"}],
        "customers": [{"participant": "openai", "kind": "chips"}],
    }
    body = client.get(response["Location"]).content.decode()
    assert "New offerings" in body and "DGX Cloud" in body and "Cloud &amp; compute services" in body
    assert "Microsoft Azure — supplies compute to — this organisation" in body
    assert "This organisation — supplies chips to — OpenAI" in body


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ({"customers": [("azure", "chips")]}, "The directory already lists this link."),
        ({"suppliers": [("nvidia", "chips")]}, "A participant cannot supply itself."),
        ({"suppliers": [("no-such-org", "chips")]}, "No published participant has this slug."),
        ({"suppliers": [("azure", "")]}, "Choose what is supplied."),
        ({"offerings": [{"segment": "ai-chips", "name": "nvidia offering"}]}, "It already has this offering"),
        ({"offerings": [{"segment": "ai-chips", "name": "H100"}] * 2}, "Please correct the duplicate data"),
        ({"offerings": [{"name": "No segment"}]}, "This field is required."),
    ],
)
def test_bad_additions_are_refused_and_what_was_typed_is_kept(client, azure, nvidia, rows, error):
    response = client.post(
        "/participants/nvidia/suggest/", _with_rows(correction(nvidia, founded="1994"), **rows)
    )
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert "Please correct the fields marked below" in body and 'name="founded" value="1994"' in body
    assert Submission.objects.count() == 0


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", CURATOR_EMAILS=["c@chainsite.example"]
)
def test_curators_see_the_additions_in_the_mail(client, azure, nvidia, django_capture_on_commit_callbacks):
    post = _with_rows(
        correction(nvidia),
        offerings=[{"segment": "cloud-compute", "name": "DGX"}],
        suppliers=[("azure", "compute")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/participants/nvidia/suggest/", post)
    curator, _confirmation = mail.outbox
    assert "+ offering: cloud-compute: DGX\n" in curator.body
    assert "+ supplier: azure (compute)\n" in curator.body
