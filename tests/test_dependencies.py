"""A participant's page around it in the chain: single-source flags, alternatives in the
same segment (same country and elsewhere), and its dependencies two steps up and down."""

import re

import pytest
from django.test import override_settings

from directory.models import Offering, Segment
from tests.conftest import make_link, make_participant

pytestmark = pytest.mark.django_db

BACKENDS = ["bitmap", "sql"]


def _link_line(body, supplier_name):
    """The whole ``<p class="link-line">`` naming ``supplier_name`` as supplier."""
    for line in re.findall(r'<p class="link-line">.*?</p>', body, re.S):
        if f">{supplier_name}</a>" in line.split('<span class="rel-kind">')[0]:
            return line
    raise AssertionError(f"no link line from {supplier_name}")


@pytest.fixture
def lab(db):
    """A Chinese model lab with: one active cloud (a single source), two active chip
    suppliers (not single), one active data supplier beside an ended one (single: the
    ended one does not count), a planned energy supplier alone (not single: nothing
    active), and an investor that is a cloud too (a tie, not supply)."""
    lab = make_participant("lab", ("foundation-models",), name_en="Lab", country="CN")
    cloud = make_participant("cloud", ("cloud-compute",), name_en="Cloud One", country="CN")
    investor = make_participant("investor", ("cloud-compute",), name_en="Investor Cloud", country="CN")
    chips_a = make_participant("chips-a", ("ai-chips",), name_en="Chips A")
    chips_b = make_participant("chips-b", ("ai-chips",), name_en="Chips B", country="CN")
    data_now = make_participant("data-now", ("data-services",), name_en="Data Now")
    data_old = make_participant("data-old", ("data-services",), name_en="Data Old")
    power = make_participant("power", ("energy-power",), name_en="Power Co")
    make_link(cloud, lab, "compute")
    make_link(investor, lab, "investment")
    make_link(chips_a, lab, "chips")
    make_link(chips_b, lab, "chips")
    make_link(data_now, lab, "data")
    make_link(data_old, lab, "data", status="ended", since_year=2020, until_year=2023)
    make_link(power, lab, "energy", status="planned", since_year=2030)
    return lab


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_source_flags(client, lab, backend):
    with override_settings(CATALOG_BACKEND=backend):
        response = client.get("/participants/lab/")
    assert response.status_code == 200
    profile = response.context["profile"]
    single = {Segment.objects.get(pk=s).slug: p for s, p in profile.links.single_sources.items()}
    assert single == {
        "cloud-compute": lab.supplied_by.get(supplier__slug="cloud").supplier_id,
        "data-services": lab.supplied_by.get(supplier__slug="data-now").supplier_id,
    }
    body = response.content.decode()
    flagged = {name for name in ("Cloud One", "Data Now") if "single source" in _link_line(body, name)}
    assert flagged == {"Cloud One", "Data Now"}
    for name in ("Chips A", "Chips B", "Data Old", "Power Co"):
        assert "single source" not in _link_line(body, name), name
    assert "Depends on a single active supplier in 2 segments" in body
    # the tie is shown apart, never as a supplier
    assert [k.supplier.slug for k in profile.links.ties] == ["investor"]
    assert "investor" not in {k.supplier.slug for k in profile.suppliers}


def test_a_second_active_supplier_lifts_the_flag(client, lab):
    other = make_participant("cloud-two", ("cloud-compute",), name_en="Cloud Two")
    make_link(other, lab, "compute")
    body = client.get("/participants/lab/").content.decode()
    assert "single source" not in _link_line(body, "Cloud One")
    assert "Depends on a single active supplier in 1 segment " in body


def test_an_unpublished_supplier_is_not_counted_nor_shown(client, lab):
    hidden = make_participant("hidden-cloud", ("cloud-compute",), name_en="Hidden Cloud", status="draft")
    make_link(hidden, lab, "compute")
    body = client.get("/participants/lab/").content.decode()
    assert "Hidden Cloud" not in body
    assert "single source" in _link_line(body, "Cloud One")


def test_no_flag_without_suppliers(client, db):
    make_participant("alone", ("foundation-models",))
    body = client.get("/participants/alone/").content.decode()
    assert "single source" not in body and 'id="single-source"' not in body


# Alternatives -------------------------------------------------------------------------


@pytest.fixture
def chip_makers(db):
    """Chip makers around ``me`` (China): in China, Big CN with 3 customers, Mid CN with
    1, Zero CN with none; a draft and an archived one in China with many customers;
    elsewhere, US Giant with 4 customers (one ended, one unpublished, one by a tie: 2
    count), and Alpha EU with 2. Customers are counted once however many links."""
    me = make_participant("me", ("ai-chips",), name_en="Me Chips", country="CN")
    buyers = [make_participant(f"buyer-{i}", ("cloud-compute",), name_en=f"Buyer {i}") for i in range(5)]
    hidden_buyer = make_participant("hidden-buyer", ("cloud-compute",), status="draft")
    makers = {
        "big-cn": ("Big CN", "CN", "published"),
        "mid-cn": ("Mid CN", "CN", "published"),
        "zero-cn": ("Zero CN", "CN", "published"),
        "draft-cn": ("Draft CN", "CN", "draft"),
        "archived-cn": ("Archived CN", "CN", "archived"),
        "us-giant": ("US Giant", "US", "published"),
        "alpha-eu": ("Alpha EU", "DE", "published"),
    }
    people = {
        slug: make_participant(slug, ("ai-chips",), name_en=name, country=country, status=status)
        for slug, (name, country, status) in makers.items()
    }
    for slug, n in (("big-cn", 3), ("mid-cn", 1), ("draft-cn", 5), ("archived-cn", 5), ("alpha-eu", 2)):
        for buyer in buyers[:n]:
            make_link(people[slug], buyer, "chips")
    make_link(people["big-cn"], buyers[0], "hardware")  # the same customer again
    giant = people["us-giant"]
    make_link(giant, buyers[0], "chips")
    make_link(giant, buyers[1], "chips")
    make_link(giant, buyers[2], "chips", status="ended", until_year=2024)
    make_link(giant, hidden_buyer, "chips")
    make_link(giant, buyers[3], "investment")
    make_link(me, buyers[4], "chips")
    return me


@pytest.mark.parametrize("backend", BACKENDS)
def test_alternatives_exclude_itself_and_unpublished_split_by_country_ordered_by_customers(
    client, chip_makers, backend
):
    with override_settings(CATALOG_BACKEND=backend):
        response = client.get("/participants/me/")
    assert response.status_code == 200
    [(segment, home, elsewhere)] = response.context["profile"].alternatives
    assert segment.slug == "ai-chips"
    assert [(p.slug, p.customers) for p in home] == [("big-cn", 3), ("mid-cn", 1), ("zero-cn", 0)]
    assert [(p.slug, p.customers) for p in elsewhere] == [("alpha-eu", 2), ("us-giant", 2)]
    body = response.content.decode()
    section = body[body.index('<section class="alternatives"') :]
    section = section[: section.index("</section>")]
    assert "<h4>In China</h4>" in section and "<h4>Elsewhere</h4>" in section
    assert section.index("Big CN") < section.index("Mid CN") < section.index("Zero CN")
    assert section.index("Zero CN") < section.index("Alpha EU") < section.index("US Giant")
    assert '<a href="/participants/big-cn/">Big CN</a> <span class="n">3 customers</span>' in section
    assert '<a href="/participants/mid-cn/">Mid CN</a> <span class="n">1 customer</span>' in section
    for absent in ("Me Chips", "Draft CN", "Archived CN"):
        assert absent not in section


def test_alternatives_of_a_participant_without_a_country(client, chip_makers):
    me = chip_makers
    me.country = ""
    me.save()
    [(_segment, home, elsewhere)] = client.get("/participants/me/").context["profile"].alternatives
    assert home == []
    assert [p.slug for p in elsewhere][:2] == ["big-cn", "alpha-eu"]


def test_alternatives_are_per_segment_and_capped(client, db):
    me = make_participant("me", ("ai-chips", "cloud-compute"), country="US")
    for i in range(8):
        make_participant(f"chip-{i}", ("ai-chips",), country="US")
    make_participant("cloud-x", ("cloud-compute",), country="FR")
    alternatives = client.get(me.get_absolute_url()).context["profile"].alternatives
    assert [(s.slug, [p.slug for p in home], [p.slug for p in away]) for s, home, away in alternatives] == [
        ("ai-chips", [f"chip-{i}" for i in range(5)], []),
        ("cloud-compute", [], ["cloud-x"]),
    ]


# Dependencies ------------------------------------------------------------------------


def test_dependencies_two_steps_up_and_down_grouped_by_segment(client, db):
    power = make_participant("power", ("energy-power",), name_en="Power")
    fab = make_participant("fab", ("ai-chips",), name_en="Fab")
    cloud = make_participant("cloud", ("cloud-compute",), name_en="Cloud")
    lab = make_participant("lab", ("foundation-models",), name_en="Lab")
    app = make_participant("app", ("industry-apps",), name_en="App")
    agent = make_participant("agent", ("agent-platforms",), name_en="Agent")
    far = make_participant("far", ("energy-power",), name_en="Too Far")
    make_link(far, power, "energy")
    make_link(power, fab, "energy")
    make_link(fab, cloud, "chips")
    make_link(power, cloud, "energy")
    make_link(cloud, lab, "compute")
    make_link(lab, agent, "model")
    make_link(agent, app, "software")
    make_link(lab, app, "model", status="ended", until_year=2024)  # not a dependency
    Offering.objects.create(participant=cloud, segment=Segment.objects.get(slug="ai-chips"), name="Own chips")
    profile = client.get("/participants/cloud/").context["profile"]

    def levels(column):
        return [
            (step, [(seg.slug if seg else None, [p.slug for p in people]) for seg, people in groups])
            for step, groups in column
        ]

    assert levels(profile.upstream) == [
        (1, [("energy-power", ["power"]), ("ai-chips", ["fab"])]),
        (2, [("energy-power", ["far"])]),  # power, two steps up through the fab, is already one step up
    ]
    assert levels(profile.downstream) == [
        (1, [("cloud-compute", ["lab"])]),
        (2, [("foundation-models", ["agent"])]),
    ]
    body = client.get("/participants/cloud/").content.decode()
    section = body[body.index('<section class="dependencies"') :]
    section = section[: section.index("</section>")]
    assert "Two steps away" in section and '<a href="/participants/far/">Too Far</a>' in section
    assert "App" not in section  # three steps down
