"""A crash in the middle of an import or an approval leaves nothing half-written."""

from unittest import mock

import pytest
from django.contrib.auth.models import User

from directory.csvio import participants as importer
from directory.curation import moderation as services
from directory.models import Offering, Participant, Submission, SubmissionStatus

pytestmark = pytest.mark.django_db

CSV = """name_en,name_zh,segment,website,country,founded,open_source,description_en
Alpha Chips,,ai-chips,https://alpha.example.com/,US,2001,no,One.
Beta Cloud,,cloud-compute,https://beta.example.com/,US,2002,no,Two.
Gamma Models,,foundation-models,https://gamma.example.com/,US,2003,no,Three.
"""


def test_an_exception_midway_through_an_import_writes_nothing():
    real_create = importer.bulk_create_with_history
    calls = []

    def create_then_crash(objs, model, **kwargs):
        calls.append(model)
        if model is Offering:  # the participants and their history are already inserted
            raise RuntimeError("disk full")
        return real_create(objs, model, **kwargs)

    with (
        mock.patch.object(importer, "bulk_create_with_history", side_effect=create_then_crash),
        pytest.raises(RuntimeError, match="disk full"),
    ):
        importer.import_participants(CSV)
    assert calls == [Participant, Offering]
    assert not Participant.objects.exists() and not Offering.objects.exists()
    assert not Participant.history.exists()
    report = importer.import_participants(CSV)  # and the same file then imports cleanly
    assert report.count("create") == 3 and Participant.objects.count() == 3


def test_an_exception_at_the_end_of_an_approval_writes_nothing():
    curator = User.objects.create_user("mona", password="x-long-password-1")
    submission = Submission.objects.create(
        kind="new",
        data={
            "name_en": "Delta Data",
            "name_zh": "",
            "website": "https://delta.example.com/",
            "country": "US",
            "founded": 2010,
            "open_source": "no",
            "description_en": "Labels data.",
            "description_zh": "",
            "kind": "service",
            "offerings": [{"segment": "data-services", "name": "Labelling", "description": "", "url": ""}],
            "suppliers": [],
            "customers": [],
        },
        submitter_name="Ann",
        submitter_email="ann@example.com",
    )
    with (
        mock.patch.object(services, "refresh_search_index", side_effect=RuntimeError("crash")),
        pytest.raises(RuntimeError, match="crash"),
    ):
        services.approve_submission(submission, by=curator)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING and submission.reviewed_by is None
    assert submission.participant is None
    assert not Participant.objects.filter(name_en="Delta Data").exists()
    assert not Offering.objects.filter(name="Labelling").exists()
    services.approve_submission(submission, by=curator)  # a retry then applies it once
    assert Participant.objects.filter(name_en="Delta Data").count() == 1
