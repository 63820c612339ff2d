"""import_participants / import_relationships: the CSV format of DESIGN.md, all rows or none."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.csvio import EXPORT_COLUMNS, import_participants, import_relationships, iter_csv
from directory.models import Offering, Participant, Relationship, Tag
from tests.conftest import make_participant

pytestmark = pytest.mark.django_db

HEADER = "name_en,name_zh,segment,website,country,founded,open_source,description_en"
GOOD = f"""{HEADER},slug,kind,tags,offerings
NVIDIA,英伟达,ai-chips|cloud-compute,https://www.nvidia.com/,US,1993,partly,Makes GPUs.,nvidia,vendor,\
gpu|hbm,ai-chips:H100|cloud-compute:DGX Cloud
Zhipu AI,智谱,foundation-models,https://www.zhipuai.cn/,cn,2019,partly,Builds GLM models.,,,,
"""


def _run(tmp_path, text, *args, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    call_command("import_participants", str(path), *args)


def test_good_file_creates_participants_with_offerings_and_tags(tmp_path, capsys):
    _run(tmp_path, GOOD)
    assert "2 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    nvidia = Participant.objects.get(slug="nvidia")
    assert nvidia.name_zh == "英伟达" and nvidia.founded == 1993 and nvidia.open_source == "partly"
    assert sorted(o.name for o in nvidia.offerings.all()) == ["DGX Cloud", "H100"]
    assert sorted(t.name for t in nvidia.tags.all()) == ["gpu", "hbm"]
    zhipu = Participant.objects.get(name_en="Zhipu AI")
    assert zhipu.slug == "zhipu-ai" and zhipu.country == "CN"
    # A segment without a named offering gets one named after the participant.
    assert [(o.segment.slug, o.name) for o in zhipu.offerings.all()] == [("foundation-models", "Zhipu AI")]
    assert "英伟达" in nvidia.search_names or "英伟" in Participant.objects.get(slug="nvidia").search_names


def test_second_import_changes_nothing(tmp_path, capsys):
    _run(tmp_path, GOOD)
    before = list(Participant.objects.values_list("slug", "updated_at"))
    _run(tmp_path, GOOD)
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert list(Participant.objects.values_list("slug", "updated_at")) == before
    assert Offering.objects.count() == 3


def test_dry_run_writes_nothing(tmp_path, capsys):
    _run(tmp_path, GOOD, "--dry-run")
    assert "dry run, nothing written: 2 created" in capsys.readouterr().out
    assert Participant.objects.count() == 0


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("X,,ai-chips,https://x.com/,US,1999,maybe,d", "open_source: must be yes, no or partly"),
        ("X,,ai-chips,https://x.com/,XX,1999,no,d", "country: XX is not an ISO 3166-1 alpha-2 code"),
        ("X,,ai-chips,https://x.com/,US,1066,no,d", "founded: must be a year between 1800"),
        ("X,,ai-chips,https://x.com/,US,soon,no,d", "founded: must be a year"),
        ("X,,no-such-segment,https://x.com/,US,,no,d", "segment: unknown segment no-such-segment"),
        ("X,,,https://x.com/,US,,no,d", "segment: at least one segment slug is required"),
        ("X,,ai-chips,javascript:alert(1),US,,no,d", "website: not a valid http(s) URL"),
        (",,ai-chips,https://x.com/,US,,no,d", "name_en or name_zh is required"),
        ("X,,ai-chips,https://x.com/,US,,no,d,extra,cells", "more cells than header columns"),
        ("X\x01,,ai-chips,https://x.com/,US,,no,d", "name_en: contains control characters"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_written(tmp_path, capsys, row, reason):
    text = f"{HEADER}\nGood,,ai-chips,https://good.com/,US,,no,fine\n{row}\n"
    with pytest.raises(CommandError, match="1 bad row"):
        _run(tmp_path, text)
    err = capsys.readouterr().err
    assert f"line 3: {reason}" in err
    assert Participant.objects.count() == 0  # all-or-nothing: the good row is not written either


def test_missing_column_and_bad_encoding_are_file_errors(tmp_path):
    with pytest.raises(CommandError, match="missing required column\\(s\\): description_en"):
        _run(tmp_path, "name_en,name_zh,segment,website,country,founded,open_source\n")
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\nCaf\xe9,,ai-chips,,FR,,no,d\n".encode("latin-1"))
    with pytest.raises(CommandError, match="line 2: the file is not valid UTF-8"):
        call_command("import_participants", str(path))
    assert Participant.objects.count() == 0


def test_duplicate_rows_in_one_file_are_rejected(tmp_path, capsys):
    text = f"{HEADER}\nSame,,ai-chips,https://a.com/,US,,no,d\nsame,,ai-chips,https://b.com/,US,,no,d\n"
    with pytest.raises(CommandError):
        _run(tmp_path, text)
    assert "line 3: describes the same participant as line 2" in capsys.readouterr().err


def test_rows_match_by_slug_then_domain_then_name(tmp_path):
    make_participant("nv", name_en="Nvidia Corp", website="https://www.nvidia.com/")
    make_participant("zp", name_en="Zhipu AI", website="")
    _run(tmp_path, GOOD.replace(",nvidia,vendor", ",,vendor"))
    assert Participant.objects.count() == 2  # updated, not created
    assert Participant.objects.get(slug="nv").name_en == "NVIDIA"  # matched by domain
    assert Participant.objects.get(slug="zp").website == "https://www.zhipuai.cn/"  # matched by name


def test_update_reports_changed_fields(tmp_path, capsys):
    _run(tmp_path, GOOD)
    _run(tmp_path, GOOD.replace("Makes GPUs.", "Designs GPUs."), "-v", "2")
    out = capsys.readouterr().out
    assert "update nvidia (description_en)" in out and "0 created, 1 updated, 1 unchanged" in out


def test_export_then_import_is_lossless(tmp_path, capsys):
    _run(tmp_path, GOOD)
    Participant.objects.filter(slug="nvidia").update(description_en="=HYPERLINK(evil)")
    exported = "".join(iter_csv(Participant.objects.order_by("slug")))
    assert exported.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert "'=HYPERLINK(evil)" in exported  # formula neutralised for spreadsheets
    report = import_participants(exported, dry_run=True)
    assert report.count("unchanged") == 2 and not report.errors
    Participant.objects.all().delete()
    import_participants(exported)
    assert Participant.objects.get(slug="nvidia").description_en == "=HYPERLINK(evil)"
    assert "".join(iter_csv(Participant.objects.order_by("slug"))) == exported


def test_a_name_holding_the_list_separator_round_trips(tmp_path, capsys):
    # The offering named after the participant cannot hold "|", which separates offerings.
    _run(tmp_path, f"{HEADER}\nAlpha|Beta,,ai-chips,https://ab.example.com/,US,,no,\n")
    participant = Participant.objects.get()
    assert participant.name_en == "Alpha|Beta"
    assert [o.name for o in participant.offerings.all()] == ["Alpha/Beta"]
    exported = "".join(iter_csv(Participant.objects.all()))
    report = import_participants(exported, dry_run=True)
    assert not report.errors and report.count("unchanged") == 1


def test_relationships_import(tmp_path, capsys):
    make_participant("a")
    make_participant("b")
    path = tmp_path / "rel.csv"
    path.write_text(
        "supplier,customer,kind,evidence,evidence_url\na,b,chips,Announced 2024,https://a.example.com/news\n"
    )
    call_command("import_relationships", str(path))
    call_command("import_relationships", str(path))
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert Relationship.objects.get().evidence == "Announced 2024"
    bad = tmp_path / "bad.csv"
    bad.write_text("supplier,customer,kind\na,a,chips\na,zz,chips\na,b,gossip\n")
    with pytest.raises(CommandError, match="3 bad row"):
        call_command("import_relationships", str(bad))
    err = capsys.readouterr().err
    assert "line 2: supplier and customer are the same participant" in err
    assert "line 3: customer: no participant with slug zz" in err
    assert "line 4: kind: must be one of" in err
    assert Relationship.objects.count() == 1


def _queries_to_import(rows):
    text = f"{HEADER},slug,kind,tags,offerings\n" + "".join(
        f"Maker {i},制造商{i},ai-chips|cloud-compute,https://maker{i}.example.com/,US,2001,no,Chips.,"
        f"maker-{i},vendor,gpu|tag {i % 3},ai-chips:Chip {i}\n"
        for i in range(rows)
    )
    with CaptureQueriesContext(connection) as captured:
        report = import_participants(text)
    assert report.count("create") == rows and not report.errors
    return len(captured)


def test_an_import_reads_and_writes_in_batches():
    """A file's rows are matched, created and tagged a batch at a time: 60 rows cost
    what 4 do, give or take a bulk insert that SQLite splits to stay within its limit
    of parameters per statement."""
    few = _queries_to_import(4)
    Participant.objects.all().delete()
    Tag.objects.all().delete()
    many = _queries_to_import(60)
    assert few <= many <= few + 3
    assert Offering.objects.filter(participant__slug__startswith="maker-").count() == 60 * 2
    assert Participant.objects.get(slug="maker-7").tags.count() == 2


def test_bulk_created_rows_have_their_history_and_index():
    import_participants(GOOD)
    nvidia = Participant.objects.get(slug="nvidia")
    assert nvidia.website_domain == "nvidia.com"  # what save() sets, bulk inserts too
    history = nvidia.history.get()
    assert history.history_type == "+" and history.history_change_reason == "CSV import"
    assert {h.name for h in Offering.history.filter(participant_id=nvidia.pk)} == {"H100", "DGX Cloud"}
    assert Participant.objects.filter(search_names__contains="nvidia").exists()


def test_a_row_without_a_slug_does_not_take_one_a_later_row_names():
    text = f"{HEADER},slug\nAcme Inc,,ai-chips,,US,,no,First.,\nOther,,ai-chips,,US,,no,Second.,acme-inc\n"
    report = import_participants(text)
    assert report.count("create") == 2 and not report.errors
    assert set(Participant.objects.values_list("slug", "name_en")) == {
        ("acme-inc-2", "Acme Inc"),
        ("acme-inc", "Other"),
    }


def test_tags_without_letters_a_slug_keeps_are_found_again_by_name():
    """A Chinese tag's slug is a digest of its name, the same in every process; a tag
    made earlier under another slug is found by its name, not duplicated."""
    Tag.objects.create(slug="legacy-slug", name="向量")
    text = f"{HEADER},tags\nAcme,,ai-chips,,US,,no,First.,向量|检索\n"
    import_participants(text)
    import_participants(text.replace("Acme", "Acme Again"))
    assert Tag.objects.filter(name="向量").count() == 1 and Tag.objects.filter(name="检索").count() == 1
    assert Tag.objects.get(name="检索").slug.startswith("tag-")
    assert set(Participant.objects.get(name_en="Acme Again").tags.values_list("slug", flat=True)) == {
        "legacy-slug",
        Tag.objects.get(name="检索").slug,
    }


def test_names_match_in_any_case_and_non_ascii_ones_too():
    make_participant("strasse", ("ai-chips",), name_en="Straße Systems", website="")
    make_participant("acme", ("ai-chips",), name_en="ACME Corp", website="")
    text = f"{HEADER}\nacme corp,,ai-chips,,US,,no,Renamed.\nStraße Systems,,ai-chips,,US,,no,Same.\n"
    report = import_participants(text, dry_run=True)
    assert [(r.action, r.key) for r in report.rows] == [("update", "acme"), ("update", "strasse")]


def test_bulk_updates_change_fields_offerings_and_tags_with_history(tmp_path):
    import_participants(GOOD)
    changed = (
        GOOD.replace("Makes GPUs.", "Makes accelerators.")
        .replace("ai-chips|cloud-compute,https://www.nvidia", "ai-chips,https://www.nvidia")
        .replace("gpu|hbm,ai-chips:H100|cloud-compute:DGX Cloud", "gpu|nvlink,ai-chips:H100|ai-chips:B200")
    )
    report = import_participants(changed)
    assert [r.action for r in report.rows] == ["update", "unchanged"]
    nvidia = Participant.objects.get(slug="nvidia")
    assert nvidia.description_en == "Makes accelerators."
    assert sorted(o.name for o in nvidia.offerings.all()) == ["B200", "H100"]
    assert sorted(t.name for t in nvidia.tags.all()) == ["gpu", "nvlink"]
    assert [h.history_type for h in nvidia.history.order_by("history_date")] == ["+", "~"]
    assert nvidia.history.latest().history_change_reason == "CSV import"
    assert {(h.name, h.history_type) for h in Offering.history.filter(participant_id=nvidia.pk)} == {
        ("H100", "+"),
        ("DGX Cloud", "+"),
        ("DGX Cloud", "-"),
        ("B200", "+"),
    }
    assert Participant.objects.filter(slug="nvidia", search_terms__contains="nvlink").exists()


def _links_csv(pairs, evidence="Reported"):
    return "supplier,customer,kind,evidence\n" + "".join(f"{a},{b},software,{evidence}\n" for a, b in pairs)


def test_relationships_import_in_batches_with_history():
    for i in range(12):
        make_participant(f"p{i}")
    few = [(f"p{i}", f"p{i + 1}") for i in range(3)]
    many = [(f"p{i}", f"p{j}") for i in range(12) for j in range(12) if i != j][:40]
    counts = []
    for pairs in (few, many):
        Relationship.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            report = import_relationships(_links_csv(pairs))
        assert report.count("create") == len(pairs) and report.written
        counts.append(len(captured))
    assert counts[0] <= counts[1] <= counts[0] + 2  # SQLite may split a bulk insert
    link = Relationship.objects.get(supplier__slug="p0", customer__slug="p1")
    assert link.history.get().history_change_reason == "CSV import"

    report = import_relationships(_links_csv(many[:2], evidence="Confirmed"))
    assert [r.action for r in report.rows] == ["update", "update"]
    link.refresh_from_db()
    assert link.evidence == "Confirmed"
    assert [h.history_type for h in link.history.order_by("history_date")] == ["+", "~"]
    assert Relationship.objects.count() == len(many)


def test_a_new_tag_takes_the_first_spelling_in_the_file():
    text = f"{HEADER},tags\nAcme,,ai-chips,,US,,no,First.,GPU\nBeta,,ai-chips,,US,,no,Second.,gpu|Gpu\n"
    import_participants(text)
    assert list(Tag.objects.values_list("slug", "name")) == [("gpu", "GPU")]
    assert Participant.objects.get(name_en="Beta").tags.get().name == "GPU"


def test_founding_years_follow_the_public_forms_rule(tmp_path, capsys):
    """One rule (models.validate_founded): the importer refuses next year, as /submit/ does."""
    next_year = timezone.now().year + 1
    with pytest.raises(CommandError, match="1 bad row"):
        _run(tmp_path, f"{HEADER}\nX,,ai-chips,https://x.com/,US,{next_year},no,d\n")
    assert f"founded: must be a year between 1800 and {next_year - 1}" in capsys.readouterr().err
    _run(tmp_path, f"{HEADER}\nX,,ai-chips,https://x.com/,US,{next_year - 1},no,d\n")
    assert Participant.objects.get().founded == next_year - 1
