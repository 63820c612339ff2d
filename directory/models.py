"""The chain's domain: segments of the chain, participants, their offerings and the
supply relationships between them, and public submissions."""

import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from directory.countries import CODES
from directory.logos import thumbnail_name
from directory.urls_util import site_of

SEARCH_FIELDS = ("search_names", "search_terms", "search_body", "search_vector")
CARD_FIELDS = (
    "slug", "name_en", "name_zh", "description_en", "description_zh", "country", "kind", "open_source",
    "featured", "logo",
)  # fmt: skip
FOUNDED_MIN = 1800
FOUNDED_MAX = 2100  # the database's bound; what may be entered ends this year (founded_max)


def founded_max():
    """The latest founding year anyone may enter: this year."""
    return timezone.now().year


def validate_founded(year):
    """The one rule for a founding year, shared by the public forms, the moderators' review
    form, the approval service and the CSV importer: a year from ``FOUNDED_MIN`` to this
    year (``None``, unknown, is allowed)."""
    if year is not None and not FOUNDED_MIN <= year <= founded_max():
        raise ValidationError(
            _("Enter a year from %(min)d to %(max)d."),
            code="founded_range",
            params={"min": FOUNDED_MIN, "max": founded_max()},
        )


def prefers_chinese():
    """Whether the active language is Chinese (the ``chinese`` argument below)."""
    return (get_language() or "en").startswith("zh")


class BilingualMixin:
    """Pick ``<field>_zh`` or ``<field>_en`` for the active language, falling back to
    the other language when the preferred one is empty. Where many are picked at once
    (a page of cards), pass ``chinese`` (``prefers_chinese()``) instead of asking for the
    active language each time, which costs microseconds per ask."""

    def localized(self, field, chinese=None):
        if chinese is None:
            chinese = prefers_chinese()
        en, zh = getattr(self, f"{field}_en", ""), getattr(self, f"{field}_zh", "")
        return (zh or en) if chinese else (en or zh)

    @property
    def name(self):
        return self.localized("name")

    @property
    def description(self):
        return self.localized("description")

    @property
    def alternate_name(self):
        """The name in the other language, when both exist: ``(name, language code)``,
        else ``("", "")``. Shown beside ``name``."""
        return self.alternate_name_for(prefers_chinese())

    def alternate_name_for(self, chinese):
        if not (self.name_en and self.name_zh):
            return "", ""
        return (self.name_en, "en") if chinese else (self.name_zh, "zh-hans")


class CardMixin(BilingualMixin):
    """What pages derive from a participant's card columns (``CARD_FIELDS``), shared by
    ``Participant`` and ``CardRow`` (the same columns read with ``values()``)."""

    def get_absolute_url(self):
        return reverse("directory:participant", args=[self.slug])

    # ``get_kind_display()`` and ``get_open_source_display()`` rebuild the field's choices
    # on every call; a page of cards calls them forty times.
    @property
    def kind_label(self):
        return _KIND_LABELS.get(self.kind, self.kind)

    @property
    def open_source_label(self):
        return _OPEN_SOURCE_LABELS.get(self.open_source, self.open_source)

    @property
    def logo_url(self):
        """URL of the logo's 128-pixel thumbnail, or "" when there is no logo (pages then
        show ``monogram``). The thumbnail is written when the logo is saved (logos.py)."""
        name = str(self.logo or "")  # a FieldFile on a Participant, its name on a CardRow
        if not name:
            return ""
        return Participant._meta.get_field("logo").storage.url(thumbnail_name(name))

    @property
    def monogram(self):
        """Up to two letters standing in for a missing logo, from the name in the page's
        language."""
        return self.monogram_for(prefers_chinese())

    def monogram_for(self, chinese):
        name = (self.name_zh or self.name_en) if chinese else (self.name_en or self.name_zh)
        words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
        if not words:
            return "?"
        if not words[0][:1].isascii():
            return words[0][:1]
        return "".join(w[0] for w in words[:2]).upper()


class CardRow(CardMixin):
    """A participant's ``id`` and ``CARD_FIELDS`` as ``values()`` reads them, for a page
    of new cards (``ParticipantQuerySet.card_rows``): cheaper than model instances with
    deferred fields, and a card template that reads a column not fetched fails at once
    instead of sending one query per card."""

    def __init__(self, values):
        self.__dict__.update(values)
        self.pk = self.id


class Tier(models.TextChoices):
    UPSTREAM = "upstream", _("Upstream")
    MIDSTREAM = "midstream", _("Midstream")
    DOWNSTREAM = "downstream", _("Downstream")


TIER_ORDER = [Tier.UPSTREAM, Tier.MIDSTREAM, Tier.DOWNSTREAM]


def in_chain_order(segments):
    """``segments`` sorted as the chain runs: by tier, then order, then slug."""
    return sorted(segments, key=lambda s: (TIER_ORDER.index(s.tier), s.order, s.slug))


class SegmentQuerySet(models.QuerySet):
    def top_level(self):
        return self.filter(parent__isnull=True)


class Segment(BilingualMixin, models.Model):
    """One link of the chain (e.g. AI chips), in one of three tiers."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    tier = models.CharField(_("tier"), max_length=12, choices=Tier.choices, db_index=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True, max_length=2000)
    description_zh = models.TextField(_("description (Chinese)"), blank=True, max_length=2000)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    history = HistoricalRecords()

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="segment_tier_valid"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="segment_not_own_parent"),
        ]

    def __str__(self):
        return self.name_en

    def get_absolute_url(self):
        return reverse("directory:segment", args=[self.slug])


# Separates the items of a list (segments, tags, offerings) in a cell of the CSV format.
LIST_SEPARATOR = "|"


def no_list_separator(value):
    """An offering or tag name holding ``LIST_SEPARATOR`` would come back from a CSV
    export as two broken items. (A function rather than a ``RegexValidator``, which the
    API schema would publish as a pattern the names must match.)"""
    if LIST_SEPARATOR in value:
        raise ValidationError(_("Use no “|” here: CSV files use it to separate the items of a list."))


class Tag(models.Model):
    """A free keyword curators attach to participants (e.g. ``gpu``, ``rag``)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60, validators=[no_list_separator])

    class Meta:
        ordering = ["slug"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Kind(models.TextChoices):
    VENDOR = "vendor", _("Vendor")
    SERVICE = "service", _("Service provider")
    BOTH = "both", _("Vendor and service provider")
    OPEN_SOURCE = "open_source", _("Open-source project")
    RESEARCH = "research", _("Research institution")


class OpenSource(models.TextChoices):
    YES = "yes", _("Open source")
    PARTLY = "partly", _("Partly open source")
    NO = "no", _("Closed source")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ParticipantQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def real(self):
        """Participants that are not synthetic benchmark data."""
        return self.filter(is_synthetic=False)

    def without_search_text(self):
        """Without the denormalised search columns (a few kilobytes a row that no page
        shows)."""
        return self.defer(*SEARCH_FIELDS)

    def card_rows(self):
        """``CardRow`` s of the columns a participant card shows (partials/card.html):
        the others include timestamps, whose parsing costs more than the rest of the row."""
        return [CardRow(values) for values in self.values("id", *CARD_FIELDS)]


_KIND_LABELS = dict(Kind.choices)
_OPEN_SOURCE_LABELS = dict(OpenSource.choices)


class Participant(CardMixin, models.Model):
    """An organisation in the chain: a company, lab, open-source project or institution."""

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True, max_length=4000)
    description_zh = models.TextField(_("description (Chinese)"), blank=True, max_length=4000)
    website = models.URLField(_("website"), max_length=300, blank=True)
    website_domain = models.CharField(_("website domain"), max_length=300, blank=True, editable=False)
    country = models.CharField(_("HQ country"), max_length=2, blank=True)
    founded = models.PositiveSmallIntegerField(_("founded"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.VENDOR)
    open_source = models.CharField(
        _("open source"), max_length=6, choices=OpenSource.choices, default=OpenSource.NO
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    featured = models.BooleanField(_("featured"), default=False)
    last_verified = models.DateField(_("last verified"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="participants")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    is_synthetic = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    # Denormalised search text, rebuilt by ParticipantQuerySet-level refresh (see search.py):
    # A = names, B = tags, offerings and segments, C = descriptions.
    search_names = models.TextField(blank=True, editable=False)
    search_terms = models.TextField(blank=True, editable=False)
    search_body = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    history = HistoricalRecords(excluded_fields=list(SEARCH_FIELDS))

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        # One composite index per listing filter and ordering, as every public query
        # filters on status first; no single-column duplicates, which slow bulk writes.
        indexes = [
            models.Index(fields=["status", "name_en"], name="participant_status_name"),
            models.Index(fields=["status", "-updated_at"], name="participant_status_updated"),
            models.Index(fields=["status", "founded"], name="participant_status_founded"),
            models.Index(fields=["status", "featured"], name="participant_status_featured"),
            # Country is the most used filter: its matches come already in name order.
            models.Index(fields=["status", "country", "name_en"], name="participant_country_name"),
            models.Index(fields=["status", "kind"], name="participant_status_kind"),
            models.Index(fields=["status", "open_source"], name="participant_status_open"),
            models.Index(fields=["status", "-published_at"], name="participant_status_published"),
            models.Index(fields=["website_domain"], name="participant_website_domain"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(founded__isnull=True) | Q(founded__gte=FOUNDED_MIN, founded__lte=FOUNDED_MAX),
                name="participant_founded_range",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__in=CODES), name="participant_country_iso"
            ),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="participant_kind_valid"),
            models.CheckConstraint(
                condition=Q(open_source__in=OpenSource.values), name="participant_open_source_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="participant_status_valid"),
            models.CheckConstraint(condition=~Q(name_en="") | ~Q(name_zh=""), name="participant_has_a_name"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="participant_not_own_parent"),
        ]

    def __str__(self):
        return self.name_en or self.name_zh

    def save(self, *args, **kwargs):
        self.website_domain = site_of(self.website)
        if not self._state.adding and kwargs.get("update_fields") is None:
            # The search columns are written by ``refresh_search_index`` alone: an instance
            # read before it ran would otherwise write them back empty.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in SEARCH_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def is_published(self):
        return self.status == Status.PUBLISHED


class Offering(models.Model):
    """What a participant provides in one segment: a product, service, model, data set or API."""

    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="offerings"
    )
    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.PROTECT, related_name="offerings"
    )
    name = models.CharField(_("name"), max_length=200, validators=[no_list_separator])
    description = models.TextField(_("description"), blank=True, max_length=2000)
    url = models.URLField(_("URL"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["segment__order", "name"]
        verbose_name = _("offering")
        verbose_name_plural = _("offerings")
        indexes = [models.Index(fields=["segment", "participant"], name="offering_segment_participant")]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "segment", "name"], name="offering_unique_per_segment"
            )
        ]

    def __str__(self):
        return self.name


class RelationshipKind(models.TextChoices):
    CHIPS = "chips", _("supplies chips to")
    COMPUTE = "compute", _("supplies compute to")
    ENERGY = "energy", _("supplies power to")
    DATA = "data", _("supplies data to")
    MODEL = "model", _("supplies its model to")
    SOFTWARE = "software", _("supplies software to")
    PARTNER = "partner", _("partner of")


_RELATIONSHIP_KIND_LABELS = dict(RelationshipKind.choices)


class Relationship(models.Model):
    """A supply link in the chain: ``supplier`` provides something to ``customer``."""

    supplier = models.ForeignKey(
        Participant, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="supplies"
    )
    customer = models.ForeignKey(
        Participant, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="supplied_by"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RelationshipKind.choices)
    evidence = models.TextField(_("evidence"), blank=True, max_length=1000)
    evidence_url = models.URLField(_("evidence URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "supplier__name_en"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        indexes = [models.Index(fields=["customer", "kind"], name="relationship_customer_kind")]
        constraints = [
            models.CheckConstraint(condition=~Q(supplier=models.F("customer")), name="relationship_not_self"),
            models.UniqueConstraint(
                fields=["supplier", "customer", "kind"], name="relationship_unique_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RelationshipKind.values), name="relationship_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.supplier} → {self.customer} ({self.kind})"

    @property
    def kind_label(self):
        """``get_kind_display()`` without rebuilding the choices at each call (a hub's
        page shows dozens of links)."""
        return _RELATIONSHIP_KIND_LABELS.get(self.kind, self.kind)


def new_token():
    """256 random bits, URL-safe: the submitter's only key to their submission."""
    return secrets.token_urlsafe(32)


class SubmissionKind(models.TextChoices):
    NEW = "new", _("New listing")
    CORRECTION = "correction", _("Correction")


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SPAM = "spam", _("Spam")


class SubmitterRelation(models.TextChoices):
    EMPLOYEE = "employee", _("I work there")
    CUSTOMER = "customer", _("I am a customer")
    OTHER = "other", _("Other")


class SubmissionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=SubmissionStatus.PENDING)


# The participant fields a submission may propose (the Submission.data contract), in the
# import format's order: the public forms, the approval service and the review pages.
PROPOSAL_FIELDS = [
    "name_en",
    "name_zh",
    "website",
    "country",
    "founded",
    "open_source",
    "description_en",
    "description_zh",
    "kind",
]


class Submission(models.Model):
    """A public proposal: a new listing, or a correction of an existing participant.

    ``data`` holds what was proposed (for a correction, only the changed fields);
    ``original`` the participant's values when the correction was made, so a curator
    can see what changed since. Moderation never deletes a submission.
    """

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=SubmissionKind.choices)
    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    data = models.JSONField(_("data"), default=dict)
    original = models.JSONField(_("original"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    submitter_name = models.CharField(_("submitter name"), max_length=120)
    submitter_email = models.EmailField(_("submitter email"), max_length=254)
    submitter_relation = models.CharField(
        _("submitter relation"),
        max_length=10,
        choices=SubmitterRelation.choices,
        default=SubmitterRelation.OTHER,
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.TextField(_("review reason"), blank=True, max_length=2000)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        indexes = [models.Index(fields=["status", "created_at"], name="submission_status_created")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SubmissionKind.values), name="submission_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(submitter_relation__in=SubmitterRelation.values),
                name="submission_relation_valid",
            ),
        ]

    def __str__(self):
        data = self.data if isinstance(self.data, dict) else {}
        name = data.get("name_en") or data.get("name_zh") or str(self.participant or "")
        return f"{self.get_kind_display()}: {name}"

    def get_absolute_url(self):
        return reverse("directory:submission_status", args=[self.token])
