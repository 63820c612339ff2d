"""A link's status, dates and segments: what is refused (in the model, the admin and the
import, each with a message naming the field), what is filled in, and how the status and
dates read on the participant page and in the API."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory.csvio import import_relationships
from directory.models import Offering, Relationship, Segment
from tests.conftest import make_link, make_participant
from tests.curation import make_user

pytestmark = pytest.mark.django_db

NO_OFFERING = "(it has no offering there)"
CHANGE = "/admin/directory/relationship/{}/change/"
ADD = "/admin/directory/relationship/add/"


def segment(slug):
    return Segment.objects.get(slug=slug)


def messages(error):
    """``{field: [message]}`` of a model ``ValidationError``."""
    return {field: [str(m) for m in errs] for field, errs in error.message_dict.items()}


@pytest.fixture
def superuser_client(client):
    client.force_login(make_user("root", superuser=True))
    return client


def form_data(link, **changes):
    """The admin change form of ``link`` as a browser posts it, with ``changes``."""
    data = {
        "supplier": link.supplier_id,
        "customer": link.customer_id,
        "kind": link.kind,
        "status": link.status,
        "since_year": link.since_year or "",
        "since_month": link.since_month or "",
        "until_year": link.until_year or "",
        "until_month": link.until_month or "",
        "supplied_segment": link.supplied_segment_id,
        "customer_segment": link.customer_segment_id,
        "evidence": link.evidence,
        "evidence_zh": link.evidence_zh,
        "_save": "Save",
    }
    data.update(changes)
    return data


# The model ------------------------------------------------------------------------------


def test_segments_default_to_each_sides_first_segment_in_chain_order(small_chain):
    # Listed cloud first, but AI chips comes first in the chain.
    both = make_participant("both", ("cloud-compute", "ai-chips"))
    link = Relationship.objects.create(supplier=both, customer=small_chain["openai"], kind="chips")
    link.refresh_from_db()
    assert (link.supplied_segment.slug, link.customer_segment.slug) == ("ai-chips", "foundation-models")
    assert link.status == "active"
    link.full_clean()


def test_a_segment_the_supplier_has_no_offering_in_is_refused(small_chain):
    link = Relationship(
        supplier=small_chain["nvidia"],
        customer=small_chain["azure"],
        kind="hardware",
        supplied_segment=segment("foundation-models"),
        customer_segment=segment("cloud-compute"),
    )
    with pytest.raises(ValidationError) as refused:
        link.full_clean()
    assert messages(refused.value) == {
        "supplied_segment": [
            "Foundation models is not one of the supplier's segments (it has no offering there)."
        ]
    }
    link.supplied_segment, link.customer_segment = segment("ai-chips"), segment("ai-chips")
    with pytest.raises(ValidationError) as refused:
        link.full_clean()
    assert messages(refused.value) == {
        "customer_segment": ["AI chips is not one of the customer's segments (it has no offering there)."]
    }


def test_the_parent_of_an_offerings_segment_may_be_named(small_chain):
    npu = Segment.objects.create(slug="npu", name_en="NPUs", tier="upstream", parent=segment("ai-chips"))
    maker = make_participant("npu-maker", ("npu",))
    for supplied in ("npu", "ai-chips"):
        Relationship(
            supplier=maker,
            customer=small_chain["azure"],
            kind="chips",
            supplied_segment=segment(supplied),
            customer_segment=segment("cloud-compute"),
        ).full_clean()
    assert npu.parent.slug == "ai-chips"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"since_year": 2024, "until_year": 2023}, {"until_year": ["A link cannot end before it starts."]}),
        (
            {"since_year": 2024, "since_month": 5, "until_year": 2024, "until_month": 4},
            {"until_year": ["A link cannot end before it starts."]},
        ),
        ({"status": "ended"}, {"until_year": ["An ended link needs the year it ended."]}),
        ({"status": "ended", "since_year": 2020}, {"until_year": ["An ended link needs the year it ended."]}),
        ({"since_year": 2024, "since_month": 13}, {"since_month": ["A month is from 1 to 12."]}),
        (
            {"until_year": 2024, "until_month": 0, "status": "ended"},
            {"until_month": ["A month is from 1 to 12."]},
        ),
        ({"since_month": 3}, {"since_year": ["A month needs a year."]}),
    ],
)
def test_dates_in_order_and_complete(small_chain, fields, expected):
    link = Relationship.objects.get(supplier=small_chain["nvidia"])
    for name, value in fields.items():
        setattr(link, name, value)
    with pytest.raises(ValidationError) as refused:
        link.full_clean()
    assert messages(refused.value) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"since_year": 2024, "until_year": 2024, "status": "ended"},
        {"since_year": 2024, "since_month": 5, "until_year": 2024, "until_month": 5, "status": "ended"},
        {"since_year": 2024, "until_year": 2024, "until_month": 1, "status": "ended"},
        {"since_year": 2030, "status": "planned"},
        {"since_year": 2023, "since_month": 12},
    ],
)
def test_dates_that_are_fine(small_chain, fields):
    link = Relationship.objects.get(supplier=small_chain["nvidia"])
    for name, value in fields.items():
        setattr(link, name, value)
    link.full_clean()


@pytest.mark.parametrize(
    "fields",
    [
        {"since_month": 13, "since_year": 2024},
        {"until_month": 0, "until_year": 2024},
        {"status": "paused"},
        {"kind": "partner"},  # the old name of a partnership
    ],
)
def test_the_database_refuses_what_the_model_would(small_chain, fields):
    links = Relationship.objects.filter(supplier=small_chain["nvidia"])
    with pytest.raises(IntegrityError), transaction.atomic():
        links.update(**fields)
    assert links.get().status == "active" and links.get().kind == "chips"


# The admin ------------------------------------------------------------------------------


def test_admin_refuses_a_supplied_segment_the_supplier_has_no_offering_in(superuser_client, small_chain):
    link = Relationship.objects.get(supplier=small_chain["nvidia"])
    response = superuser_client.post(
        CHANGE.format(link.pk),
        form_data(link, supplied_segment=segment("foundation-models").pk, status="planned"),
    )
    assert response.status_code == 200  # the form again, not a redirect
    body = response.content.decode()
    assert "Please correct the error below." in body
    assert "Foundation models is not one of the supplier&#x27;s segments (it has no offering there)." in body
    assert response.context["adminform"].form.errors["supplied_segment"]
    link.refresh_from_db()
    assert (link.supplied_segment.slug, link.status) == ("ai-chips", "active")
    assert link.history.count() == 1  # nothing saved


def test_admin_refuses_a_customer_segment_the_customer_has_no_offering_in(superuser_client, small_chain):
    link = Relationship.objects.get(supplier=small_chain["nvidia"])
    response = superuser_client.post(
        CHANGE.format(link.pk), form_data(link, customer_segment=segment("ai-chips").pk)
    )
    assert response.status_code == 200
    assert "AI chips is not one of the customer&#x27;s segments (it has no offering there)." in (
        response.content.decode()
    )
    link.refresh_from_db()
    assert link.customer_segment.slug == "cloud-compute"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"since_year": 2024, "until_year": 2022}, "until_year", "A link cannot end before it starts."),
        ({"status": "ended"}, "until_year", "An ended link needs the year it ended."),
        ({"since_year": 2024, "since_month": 13}, "since_month", "A month is from 1 to 12."),
        ({"until_month": 4}, "until_year", "A month needs a year."),
    ],
)
def test_admin_refuses_bad_dates(superuser_client, small_chain, changes, field, message):
    link = Relationship.objects.get(supplier=small_chain["nvidia"])
    response = superuser_client.post(CHANGE.format(link.pk), form_data(link, **changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert message in response.content.decode()
    link.refresh_from_db()
    assert (link.status, link.since_year, link.until_year, link.since_month) == ("active", None, None, None)


def test_admin_adds_a_valid_link_and_refuses_an_invalid_one(superuser_client, small_chain):
    new = Relationship(
        supplier=small_chain["cambricon"],
        customer=small_chain["zhipu"],
        kind="chips",
        status="planned",
        since_year=2026,
        supplied_segment=segment("ai-chips"),
        customer_segment=segment("foundation-models"),
    )
    bad = form_data(new, supplied_segment=segment("cloud-compute").pk)
    response = superuser_client.post(ADD, bad)
    assert response.status_code == 200
    assert (
        "Cloud &amp; compute services is not one of the supplier&#x27;s segments" in response.content.decode()
    )
    assert not Relationship.objects.filter(supplier=small_chain["cambricon"]).exists()
    response = superuser_client.post(ADD, form_data(new))
    assert response.status_code == 302
    link = Relationship.objects.get(supplier=small_chain["cambricon"])
    assert (link.status, link.since, link.supplied_segment.slug) == ("planned", "2026", "ai-chips")


# The import -----------------------------------------------------------------------------


def test_import_refuses_a_segment_the_side_has_no_offering_in_and_writes_nothing(small_chain):
    before = set(Relationship.objects.values_list("pk", "supplied_segment_id", "customer_segment_id"))
    data = (
        "supplier,customer,kind,supplied_segment,customer_segment\n"
        "cambricon,zhipu-ai,chips,ai-chips,foundation-models\n"
        "nvidia,openai,chips,foundation-models,foundation-models\n"
        "nvidia,azure,chips,ai-chips,ai-chips\n"
    )
    report = import_relationships(data)
    assert not report.written
    assert [(row.line, row.errors) for row in report.errors] == [
        (3, [f"supplied_segment: foundation-models is not one of the supplier's segments {NO_OFFERING}"]),
        (4, [f"customer_segment: ai-chips is not one of the customer's segments {NO_OFFERING}"]),
    ]
    assert set(Relationship.objects.values_list("pk", "supplied_segment_id", "customer_segment_id")) == before
    assert not Relationship.objects.filter(supplier=small_chain["cambricon"]).exists()


# How status and dates read --------------------------------------------------------------


@pytest.fixture
def timed(small_chain):
    """Azure's suppliers: a running one since 2023, a planned one for 2030, one that
    ended in 2024 (no start known) and one that ran 2021-2024."""
    azure = small_chain["azure"]
    Relationship.objects.filter(supplier=small_chain["nvidia"], customer=azure).update(since_year=2023)
    make_link(small_chain["cambricon"], azure, "chips", status="planned", since_year=2030)
    power = make_participant("powerco", ("energy-power",), name_en="PowerCo")
    make_link(power, azure, "energy", status="ended", until_year=2024)
    labeller = make_participant("labeller", ("data-services",), name_en="Labeller")
    Offering.objects.create(participant=azure, segment=segment("data-services"), name="Azure data")
    make_link(
        labeller,
        azure,
        "data",
        received="data-services",
        status="ended",
        since_year=2021,
        until_year=2024,
        until_month=6,
    )
    return small_chain


def _when(body, supplier_name):
    """The text of the "when" span of the link line naming ``supplier_name``."""
    start = body.index(f">{supplier_name}</a>")
    when = body.index('<span class="link-when">', start) + len('<span class="link-when">')
    return body[when : body.index("</span>", when)].strip()


def test_participant_page_shows_status_and_dates(client, timed):
    response = client.get("/participants/azure/")
    assert response.status_code == 200
    body = response.content.decode()
    assert _when(body, "NVIDIA") == "since 2023"
    assert _when(body, "Cambricon") == "planned for 2030"
    assert _when(body, "PowerCo") == "ended 2024"
    assert _when(body, "Labeller") == "2021–2024-06, ended"
    # active first, then planned, then ended
    assert [(k.supplier.slug, k.status) for k in response.context["profile"].suppliers] == [
        ("nvidia", "active"),
        ("cambricon", "planned"),
        ("labeller", "ended"),
        ("powerco", "ended"),
    ]
    assert 'class="link status-planned"' in body and 'class="link status-ended"' in body


def test_api_shows_status_and_dates(client, timed):
    suppliers = {
        link["participant"]: (link["status"], link["since"], link["until"], link["supplied_segment"])
        for link in client.get("/api/participants/azure/").json()["suppliers"]
    }
    assert suppliers == {
        "nvidia": ("active", "2023", "", "ai-chips"),
        "cambricon": ("planned", "2030", "", "ai-chips"),
        "powerco": ("ended", "", "2024", "energy-power"),
        "labeller": ("ended", "2021", "2024-06", "data-services"),
    }
    links = client.get("/api/relationships/", {"customer": "azure"}).json()["results"]
    assert {(k["supplier"], k["status"], k["since"], k["until"], k["customer_segment"]) for k in links} == {
        ("nvidia", "active", "2023", "", "cloud-compute"),
        ("cambricon", "planned", "2030", "", "cloud-compute"),
        ("powerco", "ended", "", "2024", "cloud-compute"),
        ("labeller", "ended", "2021", "2024-06", "data-services"),
    }
