"""The one rule for "is this the same organisation?", and the one rule for slugs.

Two descriptions are of the same organisation when one of their names matches in either
language (compared as ``name_key`` folds them: width, case and spaces) or their websites
are the same site (``urls_util.site_of``: the domain, and on a shared host such as
github.com or huggingface.co the organisation's path too). The public form warns a
submitter with it, the admin review page shows a moderator the same matches, and the
importer matches rows to participants with it (after the row's own slug).
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.text import slugify

from directory.catalog.search import normalise
from directory.models import Participant, Submission, SubmissionKind
from directory.urls_util import site_of

SLUG_LENGTH = 100


def name_key(name):
    """``name`` folded for comparison: NFKC (full-width -> ASCII), casefolded, single spaces."""
    return " ".join(normalise(name or "").split())


def keys_of(names):
    """The non-empty ``name_key`` of each of ``names``."""
    return {key for key in map(name_key, names) if key}


@dataclass
class Duplicates:
    """What a proposed listing may duplicate: participants and pending new-listing
    submissions."""

    participants: list = field(default_factory=list)
    submissions: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.participants or self.submissions)


def same_organisation(names, website, other_names, other_website):
    """Whether a description (``names``, ``website``) is of the same organisation as
    another: a name in common (either language) or the same site."""
    site = site_of(website or "")
    return bool(keys_of(names) & keys_of(other_names)) or bool(site and site == site_of(other_website or ""))


def find_duplicates(names, website, exclude_submission=None):
    """Participants (any status) and pending new-listing submissions that are the same
    organisation as ``names`` and ``website`` (``same_organisation``)."""
    keys, site = keys_of(names), site_of(website or "")
    if not keys and not site:
        return Duplicates()
    # The stored, normalised search names narrow the candidates in the database; the
    # comparison below decides.
    condition = Q(website_domain=site) if site else Q()
    for key in keys:
        condition |= Q(search_names__contains=key) | Q(name_en__iexact=key) | Q(name_zh__iexact=key)
    candidates = Participant.objects.filter(condition).only(
        "slug", "name_en", "name_zh", "website", "website_domain", "status"
    )
    pending = Submission.objects.pending().filter(kind=SubmissionKind.NEW).only("data", "created_at")
    if exclude_submission is not None:
        pending = pending.exclude(pk=exclude_submission.pk)
    return Duplicates(
        participants=[
            p for p in candidates if same_organisation(names, website, (p.name_en, p.name_zh), p.website)
        ],
        submissions=[
            s
            for s in pending
            if same_organisation(
                names, website, (s.data.get("name_en"), s.data.get("name_zh")), s.data.get("website")
            )
        ],
    )


class Directory:
    """Every participant's names and site, read once (one query), to match many rows
    at a time (an import): ``match(names, website)`` gives the lowest id among the
    participants of the same site, else of the same name."""

    def __init__(self):
        self.by_site, self.by_name = {}, {}
        rows = Participant.objects.order_by("-pk").values_list("pk", "website_domain", "name_en", "name_zh")
        for pk, site, name_en, name_zh in rows.iterator(chunk_size=5000):  # the lowest id last
            if site:
                self.by_site[site] = pk
            for key in keys_of((name_en, name_zh)):
                self.by_name[key] = pk

    def match(self, names, website):
        site = site_of(website or "")
        if site and site in self.by_site:
            return self.by_site[site]
        for key in keys_of(names):
            if key in self.by_name:
                return self.by_name[key]
        return None


def new_slug(name, taken=()):
    """A slug for a new participant made from ``name`` (its English name, else the other),
    in use neither by a participant nor in ``taken``."""
    base = slugify(name or "")[:SLUG_LENGTH].strip("-") or "participant"
    slug, n = base, 2
    while slug in taken or Participant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
