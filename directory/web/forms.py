"""Public forms: proposing a new listing and suggesting a correction.

Each form is a ``ModelForm`` with an explicit ``fields`` allow-list; the field names are
the import format's column names (docs/design.md, "Form fields") so scripts can fill them.
Nothing here writes to the database: the views store what these forms validated as a
``Submission``.
"""

from django import forms
from django.core.validators import URLValidator
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from directory.countries import CODES, country_choices, country_name
from directory.curation.matching import Duplicates, find_duplicates
from directory.curation.moderation import RECORD_FIELDS, RECORD_SOURCE_FIELDS, build_record
from directory.models import (
    FOUNDED_MIN,
    PROPOSAL_FIELDS,
    TIER_ORDER,
    Kind,
    Offering,
    OpenSource,
    Participant,
    RecordKind,
    RecordStatus,
    RelationshipKind,
    Segment,
    Submission,
    Tier,
    founded_max,
    validate_founded,
)

MAX_OFFERINGS = 10
MAX_LINKS = 10
MAX_RECORDS = 5
_WEB_URL_MESSAGE = _("Enter a web address starting with http:// or https://.")


def _one_line(value):
    """Collapse runs of whitespace (including newlines a crafted POST may carry) to one space."""
    return " ".join(value.split())


def _multi_line(value):
    """Browsers send CRLF line ends; store LF so an untouched text compares equal to the stored one."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


class WebURLField(forms.URLField):
    """A URL that must be http or https (no ``javascript:``, ``data:`` or ``ftp:``)."""

    default_validators = [URLValidator(schemes=["http", "https"])]
    default_error_messages = {"invalid": _WEB_URL_MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class ParticipantForm(forms.ModelForm):
    """The public fields of a participant, as proposed by a submitter."""

    website = WebURLField(label=_("Website"), max_length=300, required=False)
    country = forms.CharField(
        label=_("HQ country"),
        max_length=2,
        required=False,
        widget=forms.Select,
        help_text=_("Where the organisation has its headquarters."),
    )

    class Meta:
        model = Participant
        fields = PROPOSAL_FIELDS
        labels = {
            "name_en": _("Name in English"),
            "name_zh": _("Name in Chinese"),
            "description_en": _("Description in English"),
            "description_zh": _("Description in Chinese"),
            "open_source": _("Open source?"),
            "kind": _("Kind of organisation"),
        }
        help_texts = {"name_zh": _("At least one of the two names is required.")}
        widgets = {
            "description_en": forms.Textarea(attrs={"rows": 4}),
            "description_zh": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.choices = [("", _("— unknown —")), *country_choices()]
        self.fields["country"].widget.attrs.pop("maxlength", None)  # not an attribute of <select>
        # The upper bound is this year, so the field is built per form, not per process.
        self.fields["founded"] = forms.IntegerField(
            label=_("Founded (year)"),
            required=False,
            validators=[validate_founded],
            widget=forms.NumberInput(attrs={"min": FOUNDED_MIN, "max": founded_max()}),
        )
        for name in ("name_en", "name_zh", "website", "country"):
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")

    def clean_name_en(self):
        return _one_line(self.cleaned_data["name_en"])

    def clean_name_zh(self):
        return _one_line(self.cleaned_data["name_zh"])

    def clean_description_en(self):
        return _multi_line(self.cleaned_data["description_en"])

    def clean_description_zh(self):
        return _multi_line(self.cleaned_data["description_zh"])

    def clean_country(self):
        code = self.cleaned_data["country"].strip().upper()
        if code and code not in CODES:
            raise forms.ValidationError(
                _("Choose a country from the list (an ISO 3166-1 code such as CN or US).")
            )
        return code

    def clean(self):
        cleaned = super().clean()
        if "name_en" in cleaned and "name_zh" in cleaned and not (cleaned["name_en"] or cleaned["name_zh"]):
            self.add_error("name_en", _("Give the name in at least one language."))
        return cleaned

    def proposal(self):
        """The cleaned participant fields in the ``Submission.data`` format."""
        return {name: self.cleaned_data[name] for name in PROPOSAL_FIELDS}


class NewParticipantForm(ParticipantForm):
    """A new listing: the participant fields plus the duplicate check.

    When the names or the website's domain match a participant or a pending submission,
    the form is invalid until the submitter ticks ``confirm_different``; the matches are
    in ``duplicates`` for the template to link to.
    """

    confirm_different = forms.BooleanField(
        label=_("This is a different organisation; submit it anyway."), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = Duplicates()

    def clean(self):
        cleaned = super().clean()
        # Checked even while other fields have errors, so the submitter learns of a
        # likely duplicate before fixing everything else.
        self.duplicates = find_duplicates(
            [cleaned.get("name_en"), cleaned.get("name_zh")], cleaned.get("website")
        )
        if self.duplicates and not cleaned.get("confirm_different"):
            self.add_error(
                "confirm_different",
                _(
                    "This looks like an organisation we already know. Check the matches above, "
                    "or confirm that it is a different one."
                ),
            )
        return cleaned

    def proposal(self):
        return {**super().proposal(), "confirmed_different": bool(self.cleaned_data.get("confirm_different"))}


def segment_choices(segments):
    """Select options grouped by tier, in chain order."""
    choices = [("", _("— choose a segment —"))]
    for tier in TIER_ORDER:
        options = [(s.slug, s.name) for s in segments if s.tier == tier]
        if options:
            choices.append((Tier(tier).label, options))
    return choices


class OfferingForm(forms.ModelForm):
    """One thing the new participant provides in one segment of the chain."""

    segment = forms.ChoiceField(label=_("Segment"))
    url = WebURLField(label=_("URL"), max_length=300, required=False)

    class Meta:
        model = Offering
        fields = ["segment", "name", "description", "url"]
        labels = {"name": _("Product or service"), "description": _("Description")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Choices are built once per formset (see OfferingFormSet) instead of one query per row.
        self._segments = {s.slug: s for s in segments}
        self.fields["segment"].choices = segment_choices(segments)

    def clean_segment(self):
        return self._segments[self.cleaned_data["segment"]]

    def clean_name(self):
        return _one_line(self.cleaned_data["name"])

    def clean_description(self):
        return _multi_line(self.cleaned_data["description"])


class BaseOfferingFormSet(forms.BaseInlineFormSet):
    """Offerings of a participant that does not exist yet; the segments are read once."""

    # Django's own messages ("Please submit at least 1 form.") do not say what is missing.
    default_error_messages = {
        "too_few_forms": _(
            "Add at least one offering: what the organisation provides, and in which segment."
        ),
        "too_many_forms": _("List at most %(num)d offerings; the curators can add more later."),
    }

    def __init__(self, *args, **kwargs):
        segments = list(Segment.objects.all())
        super().__init__(*args, instance=Participant(), form_kwargs={"segments": segments}, **kwargs)

    def proposal(self):
        """The filled rows in the ``Submission.data`` format."""
        return [
            {
                "segment": form.cleaned_data["segment"].slug,
                "name": form.cleaned_data["name"],
                "description": form.cleaned_data["description"],
                "url": form.cleaned_data["url"],
            }
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]


# The prefix is the relation's name, "offerings", as docs/design.md requires.
OfferingFormSet = inlineformset_factory(
    Participant,
    Offering,
    form=OfferingForm,
    formset=BaseOfferingFormSet,
    fields=["segment", "name", "description", "url"],
    extra=2,
    min_num=1,
    validate_min=True,
    max_num=MAX_OFFERINGS,
    validate_max=True,
    absolute_max=MAX_OFFERINGS,
    can_delete=False,
)


class BaseNewOfferingFormSet(BaseOfferingFormSet):
    """Offerings proposed for an existing participant (the correction form): optional,
    and none may repeat one it already has (same segment and name, in any case)."""

    def __init__(self, *args, participant, **kwargs):
        self.participant = participant
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # Rows repeating each other are refused by the formset's own unique check.
        filled = [form for form in self.forms if form.has_changed() and form.cleaned_data]
        if not filled:
            return
        existing = {(o.segment_id, o.name.casefold()) for o in self.participant.offerings.all()}
        for form in filled:
            if (form.cleaned_data["segment"].pk, form.cleaned_data["name"].casefold()) in existing:
                form.add_error("name", _("It already has this offering in this segment."))


NewOfferingFormSet = inlineformset_factory(
    Participant,
    Offering,
    form=OfferingForm,
    formset=BaseNewOfferingFormSet,
    fields=["segment", "name", "description", "url"],
    extra=1,
    min_num=0,
    max_num=MAX_OFFERINGS,
    validate_max=True,
    absolute_max=MAX_OFFERINGS,
    can_delete=False,
)


class LinkForm(forms.Form):
    """A supply link between the new participant and an existing, published one."""

    participant = forms.SlugField(
        label=_("Participant"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "participant-slugs", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(
        label=_("Relationship"), choices=[("", "—"), *RelationshipKind.choices], required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("participant") and not cleaned.get("kind"):
            self.add_error("kind", _("Choose what is supplied."))
        if cleaned.get("kind") and not cleaned.get("participant"):
            self.add_error("participant", _("Name the participant by its slug."))
        return cleaned


class BaseLinkFormSet(forms.BaseFormSet):
    """Supplier or customer links; every slug must be a published participant."""

    def clean(self):
        if any(self.errors):
            return
        rows = [f for f in self.forms if f.cleaned_data.get("participant")]
        slugs = {f.cleaned_data["participant"] for f in rows}
        known = set(
            Participant.objects.published().filter(slug__in=slugs).values_list("slug", flat=True)
            if slugs
            else ()
        )
        seen = set()
        for form in rows:
            key = (form.cleaned_data["participant"], form.cleaned_data["kind"])
            if key[0] not in known:
                form.add_error("participant", _("No published participant has this slug."))
            elif key in seen:
                form.add_error("participant", _("This link is already listed above."))
            seen.add(key)

    def proposal(self):
        """The filled rows in the ``Submission.data`` format."""
        return [
            {"participant": f.cleaned_data["participant"], "kind": f.cleaned_data["kind"]}
            for f in self.forms
            if f.cleaned_data.get("participant")
        ]


LinkFormSet = forms.formset_factory(
    LinkForm,
    formset=BaseLinkFormSet,
    extra=2,
    max_num=MAX_LINKS,
    validate_max=True,
    absolute_max=MAX_LINKS,
)

SUPPLIERS, CUSTOMERS = "suppliers", "customers"
RECORDS = "records"


class BaseNewLinkFormSet(BaseLinkFormSet):
    """New supply links of an existing participant (the correction form), on one side
    (``SUPPLIERS`` or ``CUSTOMERS``, which is also the prefix): not to itself, and not
    one it already has."""

    def __init__(self, *args, participant, **kwargs):
        self.participant = participant
        super().__init__(*args, **kwargs)

    def existing(self):
        """``{(other participant's slug, kind)}`` of the links it has on this side."""
        if self.prefix == SUPPLIERS:
            return set(self.participant.supplied_by.values_list("supplier__slug", "kind"))
        return set(self.participant.supplies.values_list("customer__slug", "kind"))

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [f for f in self.forms if f.cleaned_data.get("participant")]
        existing = self.existing() if rows else set()
        for form in rows:
            key = (form.cleaned_data["participant"], form.cleaned_data["kind"])
            if key[0] == self.participant.slug:
                form.add_error("participant", _("A participant cannot supply itself."))
            elif key in existing:
                form.add_error("participant", _("The directory already lists this link."))


NewLinkFormSet = forms.formset_factory(
    LinkForm,
    formset=BaseNewLinkFormSet,
    extra=1,
    max_num=MAX_LINKS,
    validate_max=True,
    absolute_max=MAX_LINKS,
)


class RecordProposalForm(forms.Form):
    """A compliance or risk record proposed for an existing participant (the correction
    form), with the source it comes from: the record's validation is the approval's own
    (``moderation.build_record``). A row left empty is no proposal."""

    kind = forms.ChoiceField(label=_("Kind of record"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=RecordStatus.choices, initial=RecordStatus.IN_FORCE, required=False
    )
    date = forms.CharField(
        label=_("Date"), max_length=10, required=False, help_text=_("YYYY, YYYY-MM or YYYY-MM-DD")
    )
    end_date = forms.CharField(label=_("End or expiry date"), max_length=10, required=False)
    identifier = forms.CharField(label=_("Identifier, as published"), max_length=200, required=False)
    entity_name = forms.CharField(label=_("Entity named on the record"), max_length=300, required=False)
    source_publisher = forms.CharField(label=_("Source: publisher"), max_length=200, required=False)
    source_title = forms.CharField(label=_("Source: title"), max_length=500, required=False)
    source_date = forms.CharField(label=_("Source: date published"), max_length=10, required=False)
    source_url = WebURLField(label=_("Source: URL"), max_length=500, required=False)

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._kinds = {k.slug: k for k in kinds}
        self.fields["kind"].choices = [("", "—"), *((k.slug, k.name) for k in kinds)]

    def clean(self):
        cleaned = super().clean()
        names = (*RECORD_FIELDS, *RECORD_SOURCE_FIELDS)
        text = {name: _one_line(str(cleaned.get(name) or "")) for name in names}
        # The status alone (it has a default) does not make a row a proposal.
        if self.errors or not any(value for name, value in text.items() if name != "status"):
            return cleaned
        try:
            build_record(text, self._kinds)
        except forms.ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(None if name == "__all__" else name, messages)
        cleaned.update(text)
        cleaned["proposed"] = not self.errors
        return cleaned


class BaseRecordFormSet(forms.BaseFormSet):
    """Records proposed for ``participant``: none it already has (same kind, identifier
    and date), none twice. The kinds are read once per formset."""

    def __init__(self, *args, participant, **kwargs):
        self.participant = participant
        kwargs.setdefault("form_kwargs", {})["kinds"] = list(RecordKind.objects.all())
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        rows = [f for f in self.forms if f.cleaned_data.get("proposed")]
        existing = set()
        if rows:
            existing = set(self.participant.records.values_list("kind__slug", "identifier", "date"))
        seen = set()
        for form in rows:
            key = (form.cleaned_data["kind"], form.cleaned_data["identifier"], form.cleaned_data["date"])
            if key in existing:
                form.add_error("kind", _("The directory already has this record."))
            elif key in seen:
                form.add_error("kind", _("This record is already listed above."))
            seen.add(key)

    def proposal(self):
        """The filled rows in the ``Submission.data`` format (the records CSV's columns)."""
        return [
            {name: f.cleaned_data[name] for name in (*RECORD_FIELDS, *RECORD_SOURCE_FIELDS)}
            for f in self.forms
            if f.cleaned_data.get("proposed")
        ]


RecordFormSet = forms.formset_factory(
    RecordProposalForm,
    formset=BaseRecordFormSet,
    extra=1,
    max_num=MAX_RECORDS,
    validate_max=True,
    absolute_max=MAX_RECORDS,
)


def link_suggestions():
    """Published, real participants for the slug field's ``<datalist>``."""
    return Participant.objects.published().real().order_by("name_en").only("slug", "name_en", "name_zh")


class SubmitterForm(forms.ModelForm):
    """Who sends the submission, a note to the curators, and the honeypot.

    ``phone`` is a honeypot: hidden from people (CSS and ``aria-hidden``) so only bots
    fill it; a filled one marks the submission as spam.
    """

    phone = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    class Meta:
        model = Submission
        fields = ["submitter_name", "submitter_email", "submitter_relation", "note"]
        labels = {
            "submitter_name": _("Your name"),
            "submitter_email": _("Your email"),
            "submitter_relation": _("Your relation to the organisation"),
            "note": _("Note to the curators"),
        }
        help_texts = {
            "submitter_email": _("We send you a link to follow your submission; it is never published."),
            "note": _("Sources for what you propose help the curators (optional)."),
        }
        widgets = {
            "submitter_relation": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def clean_submitter_name(self):
        return _one_line(self.cleaned_data["submitter_name"])

    def clean_note(self):
        return _multi_line(self.cleaned_data["note"])

    @property
    def is_spam(self):
        return bool(self.cleaned_data.get("phone"))


def changed_fields(proposal, participant):
    """``(data, original)`` for a correction: the proposed values that differ from the
    participant's, and all the proposable fields' values as they are now."""
    original = {name: getattr(participant, name) for name in PROPOSAL_FIELDS}

    def comparable(value):
        return _multi_line(value) if isinstance(value, str) else value

    data = {
        name: value for name, value in proposal.items() if comparable(value) != comparable(original[name])
    }
    return data, original


def shown_value(name, value):
    """A proposed or stored value of participant field ``name`` as people read it: choice
    labels and country names (the status page, the moderators' review)."""
    if value in ("", None):
        return ""
    if name == "country":
        return f"{country_name(value)} ({value})"
    if name == "kind" and value in Kind.values:
        return Kind(value).label
    if name == "open_source" and value in OpenSource.values:
        return OpenSource(value).label
    return value
