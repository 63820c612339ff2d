"""Finding the organisation a new submission may already be about.

A proposed listing is a likely duplicate when its website's domain or one of its names
(in either language, compared case- and width-insensitively) matches an existing
participant or a new-listing submission still waiting for review.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from .models import Participant, Submission, SubmissionKind
from .search import normalise
from .urls_util import domain_of


def name_key(name):
    """``name`` folded for comparison: NFKC (full-width -> ASCII), casefolded, single spaces."""
    return " ".join(normalise(name).split())


@dataclass
class Duplicates:
    """What a proposed listing may duplicate."""

    participants: list = field(default_factory=list)
    submissions: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.participants or self.submissions)


def _matches(keys, domain, names, website):
    return bool(keys & {name_key(n) for n in names if n}) or bool(domain and domain_of(website) == domain)


def find_duplicates(names, website):
    """Participants and pending new-listing submissions with the same website domain or
    the same name (any of ``names`` against either stored name)."""
    keys = {name_key(n) for n in names if n and name_key(n)}
    domain = domain_of(website)
    if not keys and not domain:
        return Duplicates()
    # The stored, already normalised search_names narrow the candidates in the database;
    # the exact comparison below also covers rows whose search index is not built yet.
    condition = Q(website_domain=domain) if domain else Q()
    for key in keys:
        condition |= Q(search_names__contains=key) | Q(name_en__iexact=key) | Q(name_zh__iexact=key)
    candidates = Participant.objects.filter(condition).only("slug", "name_en", "name_zh", "website", "status")
    pending = Submission.objects.pending().filter(kind=SubmissionKind.NEW).only("data", "created_at")
    return Duplicates(
        participants=[p for p in candidates if _matches(keys, domain, (p.name_en, p.name_zh), p.website)],
        submissions=[
            s
            for s in pending
            if _matches(keys, domain, (s.data.get("name_en"), s.data.get("name_zh")), s.data.get("website"))
        ],
    )
