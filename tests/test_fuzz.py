"""Hostile input, generated: the submission form and the CSV importer never fail with an
uncaught exception, write nothing for invalid input and keep valid input exactly.

Example counts are bounded (settings below) so `make test` stays fast; raise them locally
with HYPOTHESIS_PROFILE=thorough.
"""

import os
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.csvio import ImportFileError, import_participants, iter_csv
from directory.models import PROPOSAL_FIELDS, Participant, Submission
from tests.submission_data import new_listing

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@contextmanager
def rolled_back():
    """Run one generated example in a transaction that is always undone, so examples
    never see each other's rows (hypothesis runs them all inside one test)."""
    with transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


NASTY = [
    "\x00",
    "\u202e",  # right-to-left override
    "\u200f",
    "\ufeff",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE directory_participant; --',
    '=HYPERLINK("http://evil")',
    "javascript:alert(1)",
    "\r\n",
    "𝕏" * 3,
    "芯片" * 50,
    "a" * 100_000,
]
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(NASTY),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=50)),
)
FORM_FIELDS = [
    *PROPOSAL_FIELDS,
    "submitter_name",
    "submitter_email",
    "note",
    "offerings-0-name",
    "offerings-0-segment",
    "offerings-0-url",
]


@pytest.mark.django_db
@given(field=st.sampled_from(FORM_FIELDS), value=hostile_text)
def test_submission_form_never_errors_and_writes_only_valid_input(field, value):
    with rolled_back():
        cache.clear()  # the per-IP rate limit would otherwise stop the run
        before = Submission.objects.count()
        participants = Participant.objects.count()
        data = new_listing(confirm_different="on")
        data[field] = value
        response = Client().post("/submit/", data, REMOTE_ADDR="198.51.100.7")
        assert response.status_code in (200, 302), response.status_code
        assert Participant.objects.count() == participants  # nothing is ever published directly
        if response.status_code == 200:
            assert Submission.objects.count() == before  # rejected: nothing written
            return
        submission = Submission.objects.latest("pk")
        assert Submission.objects.count() == before + 1
        if field.startswith("offerings-"):
            stored = submission.data["offerings"][0][field.rsplit("-", 1)[1]]
        elif field.startswith("submitter_") or field == "note":
            stored = getattr(submission, field)
        else:
            stored = submission.data[field]
        if field == "founded":
            assert stored == (int(value) if value.strip() else None)
        elif field in ("website", "offerings-0-url", "submitter_email"):
            assert stored.strip().lower().startswith(value.strip().lower()[:4])
        elif field in ONE_LINE:
            assert stored == " ".join(
                value.split()
            )  # names are single lines: whitespace runs become one space
        elif field == "country":
            assert stored == value.strip().upper()  # a code in any case is taken as its code
        elif field in MULTI_LINE:
            assert stored == value.replace("\r\n", "\n").replace("\r", "\n").strip()
        else:
            assert str(stored) == value.strip()  # what the curator sees is what was sent


ONE_LINE = {"name_en", "name_zh", "submitter_name", "offerings-0-name"}
MULTI_LINE = {"description_en", "description_zh", "note", "offerings-0-description"}
HEADER = "name_en,name_zh,segment,website,country,founded,open_source,description_en,slug,description_zh,tags"
COLUMNS = HEADER.split(",")


def _csv_cell(value):
    return '"' + value.replace('"', '""') + '"'


@pytest.mark.django_db
@given(column=st.sampled_from(COLUMNS), value=hostile_text)
def test_importer_never_errors_and_round_trips_valid_rows(column, value):
    with rolled_back():
        row = {
            "name_en": "Fuzz Co",
            "name_zh": "模糊测试",
            "segment": "ai-chips",
            "website": "https://fuzz.example.com/",
            "country": "US",
            "founded": "2001",
            "open_source": "no",
            "description_en": "Plain text.",
            "slug": "fuzz-co",
            "description_zh": "纯文本。",
            "tags": "gpu",
        }
        row[column] = value
        text = HEADER + "\n" + ",".join(_csv_cell(row[c]) for c in COLUMNS) + "\n"
        try:
            report = import_participants(text.encode("utf-8", "surrogatepass"))
        except (ImportFileError, UnicodeEncodeError):
            assert not Participant.objects.exists()
            return
        if report.errors:
            assert not report.written and not Participant.objects.exists()
            return
        participant = Participant.objects.get()
        exported = "".join(iter_csv(Participant.objects.all()))
        again = import_participants(exported, dry_run=True)
        assert not again.errors and again.count("unchanged") == 1  # export -> import is lossless
        if column in ("name_en", "name_zh", "description_en", "description_zh"):
            assert getattr(participant, column) == value.strip()


@pytest.mark.django_db
@given(data=st.binary(max_size=2000))
def test_importer_survives_arbitrary_bytes(data):
    with rolled_back():
        try:
            report = import_participants(data)
        except ImportFileError:
            return
        if report.errors:
            assert not Participant.objects.exists()
