"""The database itself enforces the rules that must always hold."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from directory.models import Offering, Participant, Relationship, Segment, Submission, Tag
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db


def _rejects(**fields):
    base = {"slug": "x", "name_en": "X", "country": "US", "kind": "vendor", "open_source": "no"}
    base.update(fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(**base)


def test_founded_year_must_be_in_range():
    _rejects(founded=1700)
    _rejects(founded=2500)
    assert Participant.objects.create(slug="ok", name_en="Ok", founded=1998).founded == 1998


def test_country_must_be_an_iso_code():
    _rejects(country="XX")
    _rejects(country="us")
    assert Participant.objects.create(slug="cn", name_en="Cn", country="CN").country == "CN"


def test_enum_fields_only_take_known_values():
    _rejects(kind="alien")
    _rejects(open_source="maybe")
    _rejects(status="secret")


def test_a_participant_needs_a_name_in_some_language():
    _rejects(name_en="", name_zh="")
    assert Participant.objects.create(slug="zh-only", name_en="", name_zh="智谱").name == "智谱"


def test_slugs_are_unique():
    Participant.objects.create(slug="dup", name_en="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(slug="dup", name_en="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(slug="ai-chips", tier="upstream", name_en="again")


def test_segment_tier_must_be_known():
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(slug="new", tier="sidestream", name_en="New")


def test_relationship_never_links_a_participant_to_itself():
    p = make_participant("solo")
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(supplier=p, customer=p, kind="partnership")


def test_relationship_unique_per_supplier_customer_kind():
    a, b = make_participant("a"), make_participant("b")
    Relationship.objects.create(supplier=a, customer=b, kind="chips")
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(supplier=a, customer=b, kind="chips")
    Relationship.objects.create(supplier=a, customer=b, kind="partnership")
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(supplier=b, customer=a, kind="telepathy")
    assert Relationship.objects.count() == 2


def test_submission_status_must_be_known():
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(kind="new", status="lost", submitter_name="a", submitter_email="a@b.c")


def test_submission_token_is_long_and_random():
    one = Submission.objects.create(kind="new", submitter_name="a", submitter_email="a@example.com")
    two = Submission.objects.create(kind="new", submitter_name="b", submitter_email="b@example.com")
    assert len(one.token) >= 43 and one.token != two.token  # 32 random bytes, base64


def test_bilingual_fields_fall_back_to_the_other_language():
    p = Participant(name_en="Zhipu AI", name_zh="", description_en="", description_zh="智谱开发大模型。")
    with translation.override("zh-hans"):
        assert p.name == "Zhipu AI"
        assert p.description == "智谱开发大模型。"
    p.name_zh = "智谱"
    with translation.override("zh-hans"):
        assert p.name == "智谱"
    with translation.override("en"):
        assert p.name == "Zhipu AI"
        assert p.description == "智谱开发大模型。"


def test_parent_organisation_lists_every_arm():
    group = make_participant("alibaba-group", name_en="Alibaba Group")
    cloud = make_participant("alibaba-cloud", ("cloud-compute",), parent=group)
    assert list(group.subsidiaries.all()) == [cloud]


def test_website_domain_is_derived_for_duplicate_detection():
    p = make_participant("nv", website="https://WWW.Nvidia.com/en-us/")
    assert p.website_domain == "nvidia.com"


def test_alternate_name_is_the_other_language_when_both_exist():
    both = Participant(name_en="Cambricon", name_zh="寒武纪")
    with translation.override("en"):
        assert both.alternate_name == ("寒武纪", "zh-hans")
    with translation.override("zh-hans"):
        assert both.alternate_name == ("Cambricon", "en")
    assert Participant(name_en="Only English").alternate_name == ("", "")


def test_offering_and_tag_names_cannot_hold_the_csv_list_separator(db):
    segment = Segment.objects.get(slug="ai-chips")
    participant = make_participant("sep-co")
    with pytest.raises(ValidationError, match="CSV files use it"):
        Offering(participant=participant, segment=segment, name="H100|H200").full_clean()
    with pytest.raises(ValidationError, match="CSV files use it"):
        Tag(slug="gpu-hbm", name="gpu|hbm").full_clean()
    Offering(participant=participant, segment=segment, name="H100/H200: GPUs").full_clean()
