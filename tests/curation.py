"""Named users and submissions for the admin and moderation tests (no factory library)."""

from django.contrib.auth.models import Group, User

from directory.models import PROPOSAL_FIELDS, Submission

PASSWORD = "curate-the-chain-42"


def make_user(username, group=None, superuser=False):
    """A staff user, optionally in one of the curator groups created by migration 0005."""
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def new_listing(**overrides):
    """A pending "new" submission in the Submission.data format of the brief."""
    data = {
        "name_en": "Moonshot Data",
        "name_zh": "月影数据",
        "website": "https://moonshot-data.example.com/",
        "country": "CN",
        "founded": 2021,
        "open_source": "no",
        "description_en": "Labels speech data.",
        "description_zh": "语音数据标注。",
        "kind": "service",
        "offerings": [
            {"segment": "data-services", "name": "Speech labelling", "description": "", "url": ""},
            {"segment": "training-tuning", "name": "Eval sets", "description": "Benchmarks.", "url": ""},
        ],
        "suppliers": [],
        "customers": [],
        "confirmed_different": False,
    }
    data.update(overrides)
    return Submission.objects.create(
        kind="new", data=data, submitter_name="Lin", submitter_email="lin@example.com"
    )


def correction(participant, **changes):
    """A pending correction of ``participant`` proposing ``changes``."""
    original = {name: getattr(participant, name) for name in PROPOSAL_FIELDS}
    return Submission.objects.create(
        kind="correction",
        participant=participant,
        data=changes,
        original=original,
        submitter_name="Wang",
        submitter_email="wang@example.com",
    )
