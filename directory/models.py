"""The chain's domain: segments of the chain, participants, their offerings and the
supply relationships between them, and public submissions."""

import datetime
import re
import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin
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


_NOT_SORTED = re.compile(r"[^a-z0-9]")


def chinese_sort_key(name_zh, name_en=""):
    """The key of "A–Z" in Chinese: the pinyin of the Chinese name without tones (its
    Latin letters and digits as they are), else the English name; lower case, letters and
    digits only, so that every database collation orders it the same way."""
    name = name_zh or name_en or ""
    spelled = "".join(lazy_pinyin(name, style=Style.NORMAL, errors=lambda text: list(text)))
    return _NOT_SORTED.sub("", spelled.lower())[:200]


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
    notes = models.TextField(
        _("curator notes"),
        blank=True,
        max_length=2000,
        help_text=_("Why a field is empty on purpose, or what was corrected; not shown publicly."),
    )
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
    # "A–Z" in Chinese (``chinese_sort_key``), kept by ``save`` and ``refresh_search_index``.
    name_sort_zh = models.CharField(max_length=200, blank=True, default="", editable=False)
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
            models.Index(fields=["status", "name_sort_zh", "id"], name="participant_status_sort_zh"),
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
        self.name_sort_zh = chinese_sort_key(self.name_zh, self.name_en)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name_en", "name_zh"} & set(update_fields):
            kwargs["update_fields"] = [*update_fields, "name_sort_zh"]
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
    """What a link is: what is supplied, or (``TIES``) a tie that is not supply."""

    ENERGY = "energy", _("supplies power to")
    CHIPS = "chips", _("supplies chips to")
    HARDWARE = "hardware", _("supplies hardware to")
    COMPUTE = "compute", _("supplies compute to")
    MODEL = "model", _("supplies its model to")
    DATA = "data", _("supplies data to")
    SOFTWARE = "software", _("supplies software to")
    SERVICE = "service", _("supplies services to")
    INVESTMENT = "investment", _("invests in")
    PARTNERSHIP = "partnership", _("partner of")


# Ties are shown apart from supply and never counted as supply (flows, segment pages).
TIES = (RelationshipKind.INVESTMENT, RelationshipKind.PARTNERSHIP)
SUPPLY_KINDS = tuple(k for k in RelationshipKind.values if k not in TIES)


class LinkStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")


class LinkEvent(models.TextChoices):
    """What a save of a link did, kept in its history rows (the change feed reads them)."""

    NEW = "new", _("new link")
    STATUS = "status", _("status changed")
    ENDED = "ended", _("link ended")


_RELATIONSHIP_KIND_LABELS = dict(RelationshipKind.choices)
PARTIAL_DATE = RegexValidator(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
    _("Enter a date as YYYY, YYYY-MM or YYYY-MM-DD."),
)


def http_url(value):
    """Only ``http``/``https`` addresses are stored as links (no ``javascript:``)."""
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError(_("Enter an http or https address."))


class Source(models.Model):
    """Where a fact comes from: a document a reader can look up. A URL is stored only
    when someone confirmed the page exists."""

    publisher = models.CharField(_("publisher"), max_length=200, validators=[no_list_separator])
    title = models.CharField(_("title"), max_length=500, validators=[no_list_separator])
    published = models.CharField(
        _("date published"),
        max_length=10,
        validators=[PARTIAL_DATE],
        help_text=_("YYYY, YYYY-MM or YYYY-MM-DD"),
    )
    url = models.URLField(_("URL"), max_length=500, blank=True, validators=[http_url])
    checked = models.DateField(_("date checked"), null=True, blank=True)

    class Meta:
        ordering = ["-published", "publisher"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(fields=["publisher", "title", "published", "url"], name="source_unique"),
        ]

    def __str__(self):
        return f"{self.publisher}, {self.title} ({self.published})"


def _first_day(year, month):
    return datetime.date(year, month or 1, 1) if year else None


def _period(year, month):
    return "" if year is None else (f"{year}-{month:02d}" if month else str(year))


class Relationship(models.Model):
    """A link in the chain: ``supplier`` provides something (``kind``) to ``customer``,
    from one of its segments (``supplied_segment``) into one of the customer's
    (``customer_segment``); or a tie that is not supply (an investment, a partnership)."""

    supplier = models.ForeignKey(
        Participant, verbose_name=_("supplier"), on_delete=models.CASCADE, related_name="supplies"
    )
    customer = models.ForeignKey(
        Participant, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="supplied_by"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=RelationshipKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=LinkStatus.choices, default=LinkStatus.ACTIVE
    )
    since_year = models.PositiveSmallIntegerField(_("since (year)"), null=True, blank=True)
    since_month = models.PositiveSmallIntegerField(_("since (month)"), null=True, blank=True)
    until_year = models.PositiveSmallIntegerField(_("until (year)"), null=True, blank=True)
    until_month = models.PositiveSmallIntegerField(_("until (month)"), null=True, blank=True)
    supplied_segment = models.ForeignKey(
        Segment,
        verbose_name=_("supplied segment"),
        help_text=_("What is supplied: one of the supplier's segments (empty: its first in chain order)."),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supplied_links",
    )
    customer_segment = models.ForeignKey(
        Segment,
        verbose_name=_("customer segment"),
        help_text=_(
            "Where the customer uses it: one of the customer's segments (empty: its first in chain order)."
        ),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customer_links",
    )
    evidence = models.TextField(_("evidence (English)"), blank=True, max_length=1000)
    evidence_zh = models.TextField(_("evidence (Chinese)"), blank=True, max_length=1000)
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="relationships"
    )
    # What the last save did and when that happened in the world (its history row keeps
    # both: the change feed, /changes/, lists those rows; see ``note_event``).
    event = models.CharField(max_length=8, blank=True, editable=False, choices=LinkEvent.choices)
    event_date = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["kind", "supplier__name_en"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        indexes = [
            models.Index(fields=["customer", "kind"], name="relationship_customer_kind"),
            models.Index(fields=["status", "kind"], name="relationship_status_kind"),
            models.Index(fields=["since_year"], name="relationship_since"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(supplier=models.F("customer")), name="relationship_not_self"),
            models.UniqueConstraint(
                fields=["supplier", "customer", "kind"], name="relationship_unique_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RelationshipKind.values), name="relationship_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=LinkStatus.values), name="relationship_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(since_month__isnull=True) | Q(since_month__gte=1, since_month__lte=12),
                name="relationship_since_month",
            ),
            models.CheckConstraint(
                condition=Q(until_month__isnull=True) | Q(until_month__gte=1, until_month__lte=12),
                name="relationship_until_month",
            ),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved_status = None if self._state.adding else self.status

    def __str__(self):
        return f"{self.supplier} → {self.customer} ({self.kind})"

    def save(self, *args, **kwargs):
        # A segment not given is that side's first segment in chain order (DESIGN.md).
        if self.supplied_segment_id is None and self.supplier_id:
            self.supplied_segment_id = first_segment_of(self.supplier_id)
        if self.customer_segment_id is None and self.customer_id:
            self.customer_segment_id = first_segment_of(self.customer_id)
        self.note_event(None if self._state.adding else self._saved_status)
        super().save(*args, **kwargs)
        self._saved_status = self.status

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_status = instance.__dict__.get("status")
        return instance

    def note_event(self, previous_status, today=None):
        """Set ``event`` and ``event_date``: what saving this link now does, compared with
        the status it had (``previous_status``, None when new), and when that happened in
        the world. A new link started at ``since`` (an ended one is recorded by its end, at
        ``until``); an end happened at ``until``; another change of status today. Where the
        link gives no date, the day it is recorded. The history row of the save keeps both;
        the change feed lists those rows."""
        today = today or timezone.localdate()
        if previous_status is None:
            self.event = LinkEvent.ENDED if self.status == LinkStatus.ENDED else LinkEvent.NEW
        elif previous_status != self.status:
            self.event = LinkEvent.ENDED if self.status == LinkStatus.ENDED else LinkEvent.STATUS
        else:
            self.event = ""
        if self.event == LinkEvent.ENDED:
            self.event_date = _first_day(self.until_year, self.until_month) or today
        elif self.event == LinkEvent.NEW:
            self.event_date = _first_day(self.since_year, self.since_month) or today
        elif self.event == LinkEvent.STATUS:
            self.event_date = today

    def clean(self):
        """Dates in order and complete, and each segment one of its side's segments (or
        the parent of one): the messages name the field."""
        errors = {}
        for prefix in ("since", "until"):
            month = getattr(self, f"{prefix}_month")
            if month is not None and getattr(self, f"{prefix}_year") is None:
                errors[f"{prefix}_year"] = _("A month needs a year.")
            if month is not None and not 1 <= month <= 12:
                errors[f"{prefix}_month"] = _("A month is from 1 to 12.")
        since, until = (self.since_year, self.since_month or 0), (self.until_year, self.until_month or 13)
        if self.since_year and self.until_year and until < since:
            errors["until_year"] = _("A link cannot end before it starts.")
        if self.status == LinkStatus.ENDED and not self.until_year:
            errors["until_year"] = _("An ended link needs the year it ended.")
        for field, side in (("supplied_segment", "supplier"), ("customer_segment", "customer")):
            segment_id = getattr(self, f"{field}_id")
            participant_id = getattr(self, f"{side}_id")
            if segment_id is not None and participant_id and segment_id not in segments_of(participant_id):
                name = Segment.objects.filter(pk=segment_id).values_list("name_en", flat=True).first()
                errors[field] = _(
                    "%(segment)s is not one of the %(side)s's segments (it has no offering there)."
                ) % {
                    "segment": name or segment_id,
                    "side": _("supplier") if side == "supplier" else _("customer"),
                }
        if errors:
            raise ValidationError(errors)

    @property
    def kind_label(self):
        """``get_kind_display()`` without rebuilding the choices at each call (a hub's
        page shows dozens of links)."""
        return _RELATIONSHIP_KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_tie(self):
        return self.kind in TIES

    @property
    def since(self):
        """``2023`` or ``2023-05``, or ""."""
        return _period(self.since_year, self.since_month)

    @property
    def until(self):
        return _period(self.until_year, self.until_month)

    @property
    def evidence_text(self):
        """The evidence in the page's language, falling back to the other one."""
        return (
            (self.evidence_zh or self.evidence) if prefers_chinese() else (self.evidence or self.evidence_zh)
        )

    @property
    def evidence_in_other_language(self):
        """Whether ``evidence_text`` is not in the page's language (a fallback)."""
        chinese = prefers_chinese()
        return bool(self.evidence_text) and (not self.evidence_zh if chinese else not self.evidence)


def first_segment_of(participant_id):
    """The id of the first segment, in chain order, of participant ``participant_id``'s
    offerings, or None."""
    segments = Segment.objects.filter(offerings__participant_id=participant_id).distinct()
    first = in_chain_order(segments)
    return first[0].pk if first else None


def segments_of(participant_id):
    """Ids of the segments a link may name for participant ``participant_id``: those of
    its offerings and their parents."""
    rows = Offering.objects.filter(participant_id=participant_id).values_list(
        "segment_id", "segment__parent_id"
    )
    return {pk for pair in rows for pk in pair if pk is not None}


def parse_period(text):
    """``"2023"`` or ``"2023-05"`` -> ``(2023, 5)``; ``""`` -> ``(None, None)``. Raises
    ``ValueError`` for anything else."""
    text = (text or "").strip()
    if not text:
        return None, None
    year, _sep, month = text.partition("-")
    if not (len(year) == 4 and year.isdigit()) or (month and not (len(month) == 2 and month.isdigit())):
        raise ValueError(text)
    month = int(month) if month else None
    if month is not None and not 1 <= month <= 12:
        raise ValueError(text)
    return int(year), month


class RecordKind(BilingualMixin, models.Model):
    """A kind of compliance or risk record (a filing, a certification, a code of
    practice, an export-control list): data, so curators can add kinds."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=40, help_text=_("A country code, EU, or intl")
    )
    authority_en = models.CharField(_("issuing authority (English)"), max_length=200)
    authority_zh = models.CharField(_("issuing authority (Chinese)"), max_length=200, blank=True)
    description_en = models.TextField(_("what it means (English)"), max_length=2000)
    description_zh = models.TextField(_("what it means (Chinese)"), max_length=2000, blank=True)
    list_changes = models.BooleanField(
        _("the list changes over time"),
        default=True,
        help_text=_("Records then show when they were checked."),
    )
    badge = models.BooleanField(_("badge on cards"), default=False)
    short_en = models.CharField(_("badge (English)"), max_length=40, blank=True)
    short_zh = models.CharField(_("badge (Chinese)"), max_length=40, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("record kind")
        verbose_name_plural = _("record kinds")

    def __str__(self):
        return self.name_en

    def get_absolute_url(self):
        return reverse("directory:record_kind", args=[self.slug])

    @property
    def authority(self):
        return self.localized("authority")


def _earliest_day(partial):
    """The first day a partial date (YYYY, YYYY-MM or YYYY-MM-DD) may mean, as ISO text."""
    return partial + "-01-01"[len(partial) - 4 :] if len(partial) < 10 else partial


def _latest_day(partial):
    """The last day a partial date may mean, as comparable ISO text ("-31" is an upper
    bound of any month)."""
    return partial + "-12-31"[len(partial) - 4 :] if len(partial) < 10 else partial


class RecordStatus(models.TextChoices):
    IN_FORCE = "in force", _("in force")
    EXPIRED = "expired", _("expired")
    REVOKED = "revoked", _("revoked")
    REMOVED = "removed", _("removed")


class RecordQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(status=RecordStatus.IN_FORCE)


class Record(models.Model):
    """One compliance or risk fact about a participant, as published by its authority,
    with its sources. A missing record says only "no record in chainsite"."""

    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="records"
    )
    kind = models.ForeignKey(
        RecordKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="records"
    )
    authority = models.CharField(
        _("authority"), max_length=200, blank=True, help_text=_("As published, if not the kind's.")
    )
    identifier = models.CharField(
        _("identifier"),
        max_length=200,
        blank=True,
        help_text=_("As published; empty when not known exactly."),
    )
    entity_name = models.CharField(
        _("entity named"),
        max_length=300,
        blank=True,
        help_text=_("The entity on the record, often not the brand."),
    )
    role = models.CharField(_("role"), max_length=100, blank=True, help_text=_("Where the list gives one."))
    status = models.CharField(
        _("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.IN_FORCE
    )
    date = models.CharField(
        _("date"), max_length=10, validators=[PARTIAL_DATE], help_text=_("YYYY, YYYY-MM or YYYY-MM-DD")
    )
    end_date = models.CharField(
        _("end or expiry date"),
        max_length=10,
        blank=True,
        validators=[PARTIAL_DATE],
        help_text=_("YYYY, YYYY-MM or YYYY-MM-DD"),
    )
    notes_en = models.TextField(_("note (English)"), max_length=1000, blank=True)
    notes_zh = models.TextField(_("note (Chinese)"), max_length=1000, blank=True)
    sources = models.ManyToManyField(Source, verbose_name=_("sources"), related_name="records")
    checked = models.DateField(_("date checked"), null=True, blank=True)
    history = HistoricalRecords()

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["kind__order", "-date"]
        verbose_name = _("record")
        verbose_name_plural = _("records")
        indexes = [models.Index(fields=["kind", "status"], name="record_kind_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RecordStatus.values), name="record_status_valid"),
            models.UniqueConstraint(
                fields=["participant", "kind", "identifier", "date"], name="record_unique_per_date"
            ),
        ]

    def __str__(self):
        return f"{self.participant}: {self.kind} ({self.date})"

    def clean(self):
        """Status and dates agree: a record that ended has an end date, one in force has
        none in the past, and an end is not before the start."""
        errors = {}
        if self.end_date and self.date and _latest_day(self.end_date) < _earliest_day(self.date):
            errors["end_date"] = _("The end comes before the start.")
        if (
            self.status in (RecordStatus.EXPIRED, RecordStatus.REVOKED, RecordStatus.REMOVED)
            and not self.end_date
        ):
            errors["end_date"] = _("An expired, revoked or removed record needs the date it ended.")
        if (
            self.status == RecordStatus.IN_FORCE
            and self.end_date
            and _latest_day(self.end_date) < timezone.localdate().isoformat()
        ):
            errors["status"] = _("Its end date has passed: it is no longer in force.")
        if errors:
            raise ValidationError(errors)

    @property
    def notes(self):
        return (self.notes_zh or self.notes_en) if prefers_chinese() else (self.notes_en or self.notes_zh)

    @property
    def in_force(self):
        return self.status == RecordStatus.IN_FORCE


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
