"""Participants in the admin: the curators' daily list, with inlines, bulk actions,
soft delete, history and CSV import/export."""

import hashlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import bulk_update_with_history

from directory import logos
from directory.catalog.cache import directory_changed
from directory.catalog.search import refresh_search_index
from directory.countries import country_choices
from directory.csvio import MAX_FILE_BYTES, ImportFileError, import_participants, iter_csv
from directory.curation.admin.base import INLINE_FIELDS, URL_FIELDS_ASSUME_HTTPS
from directory.curation.admin.directory_data import RecordAdminForm
from directory.curation.admin.filters import SegmentFilter, TierFilter, VerifiedAgeFilter
from directory.models import Offering, Participant, Record, Relationship, RelationshipKind, Status

# The uploaded CSV waits in the session between preview and confirm; sessions live in
# the database, so keep them small. Larger files go through the import command.
MAX_SESSION_CSV_BYTES = 2 * 1024 * 1024
SESSION_KEY = "participant_csv_import"


class ParticipantAdminForm(forms.ModelForm):
    """The participant form, with the logo checked by Pillow (logos.validate_logo).
    ModelAdmin builds the fields from ``fieldsets``."""

    # A plain file field: ImageField's own check would accept GIF, BMP, TIFF... and
    # answer an SVG with a vague message; validate_logo says what is accepted.
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=format_lazy(
            gettext_lazy("PNG, JPEG or WebP, at most {size} and {max}×{max} pixels. No SVG."),
            size=f"{logos.MAX_LOGO_BYTES // 1024 // 1024} MB",
            max=logos.MAX_DIMENSION,
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "country" in self.fields:
            # Built per form so the names follow the curator's language.
            self.fields["country"].widget = forms.Select(choices=[("", "—"), *country_choices()])

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        # Only a new upload carries content_type; an unchanged logo is a stored file.
        if logo and hasattr(logo, "content_type"):
            logos.validate_logo(logo)
        return logo


class OfferingInline(admin.TabularInline):
    formfield_overrides = INLINE_FIELDS
    model = Offering
    fields = ["segment", "name", "description", "url"]
    autocomplete_fields = ["segment"]
    extra = 0


class SuppliesInline(admin.TabularInline):
    """This participant as supplier: the customers it supplies."""

    model = Relationship
    fk_name = "supplier"
    formfield_overrides = INLINE_FIELDS
    fields = [
        "kind",
        "customer",
        "status",
        "since_year",
        "until_year",
        "supplied_segment",
        "customer_segment",
        "evidence",
    ]
    autocomplete_fields = ["customer"]
    verbose_name = gettext_lazy("customer (this participant supplies)")
    verbose_name_plural = gettext_lazy("customers (downstream)")
    extra = 0


class SuppliedByInline(admin.TabularInline):
    """This participant as customer: the suppliers it depends on."""

    model = Relationship
    fk_name = "customer"
    formfield_overrides = INLINE_FIELDS
    fields = [
        "kind",
        "supplier",
        "status",
        "since_year",
        "until_year",
        "supplied_segment",
        "customer_segment",
        "evidence",
    ]
    autocomplete_fields = ["supplier"]
    verbose_name = gettext_lazy("supplier (supplies this participant)")
    verbose_name_plural = gettext_lazy("suppliers (upstream)")
    extra = 0


class RecordInline(admin.StackedInline):
    """The participant's compliance and risk records (each edit kept in its history)."""

    model = Record
    form = RecordAdminForm
    fields = [
        ("kind", "status"),
        ("date", "end_date", "checked"),
        ("authority", "identifier"),
        ("entity_name", "role"),
        "notes_en",
        "notes_zh",
        "sources",
    ]
    autocomplete_fields = ["sources"]
    extra = 0
    verbose_name_plural = gettext_lazy("compliance and risk records")


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_SESSION_CSV_BYTES:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(mb)s MB; import it with "
                    "“python manage.py import_participants FILE.csv”."
                )
                % {"mb": MAX_SESSION_CSV_BYTES // 1024 // 1024}
            )
        try:
            return upload.read(MAX_FILE_BYTES).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not valid UTF-8 text.")) from None


@admin.register(Participant)
class ParticipantAdmin(SimpleHistoryAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    form = ParticipantAdminForm
    list_display = [
        "name_en",
        "name_zh",
        "segment_list",
        "country",
        "kind",
        "open_source",
        "status",
        "featured",
        "last_verified",
        "updated_at",
    ]
    list_filter = [
        TierFilter,
        SegmentFilter,
        "status",
        "kind",
        "open_source",
        "featured",
        VerifiedAgeFilter,
        "country",
    ]
    search_fields = ["name_en", "name_zh", "slug", "website_domain", "description_en", "description_zh"]
    autocomplete_fields = ["tags", "parent"]
    prepopulated_fields = {"slug": ["name_en"]}
    readonly_fields = ["logo_preview", "website_domain", "created_at", "updated_at", "published_at"]
    fieldsets = [
        (None, {"fields": ["name_en", "name_zh", "slug", "status", "featured", "last_verified"]}),
        (
            gettext_lazy("Profile"),
            {
                "fields": [
                    "website",
                    "website_domain",
                    "country",
                    "founded",
                    "kind",
                    "open_source",
                    "parent",
                    "tags",
                    "description_en",
                    "description_zh",
                ]
            },
        ),
        (gettext_lazy("Logo"), {"fields": ["logo", "logo_preview"]}),
        (gettext_lazy("Record"), {"fields": ["created_at", "updated_at", "published_at"]}),
    ]
    inlines = [OfferingInline, SuppliedByInline, SuppliesInline, RecordInline]
    list_per_page = 100
    actions = ["publish", "unpublish", "archive", "feature", "unfeature", "mark_verified_today", "export_csv"]
    change_list_template = "admin/directory/participant/change_list.html"
    object_history_template = "admin/directory/participant/object_history.html"

    def get_queryset(self, request):
        # One query for all listed participants' offerings with their segments.
        offerings = Prefetch("offerings", queryset=Offering.objects.select_related("segment"))
        return super().get_queryset(request).prefetch_related(offerings)

    @admin.display(description=gettext_lazy("segments"))
    def segment_list(self, obj):
        return ", ".join(dict.fromkeys(o.segment.slug for o in obj.offerings.all()))

    @admin.display(description=gettext_lazy("preview"))
    def logo_preview(self, obj):
        if obj.logo:
            return format_html('<img src="{}" alt="" width="64" height="64">', obj.logo_url)
        return format_html(
            "{} <strong>{}</strong>", _("No logo; pages show the monogram"), obj.monogram if obj.pk else "?"
        )

    def history_view(self, request, object_id, extra_context=None):
        """The participant's own history, then its supply links': each link added,
        changed or removed, by whom, why, and what changed."""
        context = {**(extra_context or {}), "link_history": _link_history(object_id)}
        return super().history_view(request, object_id, context)

    def has_delete_permission(self, request, obj=None):
        """Hard delete is for superusers; curators archive instead (the archive action)."""
        return request.user.is_active and request.user.is_superuser

    def save_model(self, request, obj, form, change):
        now = timezone.now()
        obj.updated_at = now
        if obj.status == Status.PUBLISHED and obj.published_at is None:
            obj.published_at = now
        super().save_model(request, obj, form, change)
        if "logo" in form.changed_data:
            old = form.initial.get("logo")
            if old and old.name != obj.logo.name:
                old.storage.delete(logos.thumbnail_name(old.name))
            if obj.logo:
                logos.save_thumbnail(obj.logo)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Offerings and tags are part of what a participant is found by.
        refresh_search_index([form.instance.pk])

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if request.method == "POST" and response.status_code == 302:
            # A restored version brings back old names and descriptions, and perhaps an
            # older logo whose thumbnail was removed when it was replaced.
            refresh_search_index([object_id])
            participant = Participant.objects.get(pk=object_id)
            if participant.logo and participant.logo.storage.exists(participant.logo.name):
                logos.save_thumbnail(participant.logo)
        return response

    # Bulk actions. They record history with the curator as the author, like a save.

    def _update(self, request, queryset, reason, **values):
        now = timezone.now()
        objs = list(queryset)
        fields = [*values, "updated_at"]
        for obj in objs:
            for name, value in values.items():
                setattr(obj, name, value)
            obj.updated_at = now
            if obj.status == Status.PUBLISHED and obj.published_at is None:
                obj.published_at = now
                if "published_at" not in fields:
                    fields.append("published_at")
        if objs:
            bulk_update_with_history(
                objs, Participant, fields, default_user=request.user, default_change_reason=reason
            )
            # Bulk updates send no save signals: invalidate the public caches here.
            directory_changed()
        return len(objs)

    def _done(self, request, count, verb):
        self.message_user(
            request,
            ngettext("%(count)d participant %(verb)s.", "%(count)d participants %(verb)s.", count)
            % {"count": count, "verb": verb},
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Publish selected participants"))
    def publish(self, request, queryset):
        self._done(
            request,
            self._update(request, queryset, "Published", status=Status.PUBLISHED),
            pgettext("participants were", "published"),
        )

    @admin.action(
        permissions=["change"], description=gettext_lazy("Unpublish selected participants (back to draft)")
    )
    def unpublish(self, request, queryset):
        self._done(
            request,
            self._update(request, queryset, "Unpublished", status=Status.DRAFT),
            pgettext("participants were", "unpublished"),
        )

    @admin.action(
        permissions=["change"],
        description=gettext_lazy("Archive selected participants (hide, keep the record)"),
    )
    def archive(self, request, queryset):
        self._done(
            request,
            self._update(request, queryset, "Archived", status=Status.ARCHIVED),
            pgettext("participants were", "archived"),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Feature selected participants"))
    def feature(self, request, queryset):
        self._done(
            request,
            self._update(request, queryset, "Featured", featured=True),
            pgettext("participants were", "featured"),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Stop featuring selected participants"))
    def unfeature(self, request, queryset):
        self._done(
            request,
            self._update(request, queryset, "Unfeatured", featured=False),
            pgettext("participants were", "unfeatured"),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Mark selected as verified today"))
    def mark_verified_today(self, request, queryset):
        count = self._update(request, queryset, "Verified", last_verified=timezone.localdate())
        self._done(request, count, pgettext("participants were", "marked verified today"))

    @admin.action(permissions=["view"], description=gettext_lazy("Export selected as CSV"))
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(iter_csv(queryset.order_by("slug")), content_type="text/csv")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="participants-{stamp}.csv"'
        return response

    # CSV import: upload -> dry-run report -> confirm.

    def get_urls(self):
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name="directory_participant_import_csv",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def import_csv_view(self, request):
        """Upload a CSV, see the dry-run report, then confirm to import it for real."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self._import_confirm(request)
        form = CsvUploadForm(request.POST or None, request.FILES or None)
        report = file_error = None
        if request.method == "POST" and form.is_valid():
            text = form.cleaned_data["file"]
            try:
                report = import_participants(text, dry_run=True)
            except ImportFileError as exc:
                file_error = str(exc)
            else:
                request.session[SESSION_KEY] = {"name": request.FILES["file"].name[:200], "text": text}
        return self._render_import(request, form, report, file_error)

    def _import_confirm(self, request):
        stored = request.session.get(SESSION_KEY)
        if not stored or request.POST.get("digest") != _digest(stored["text"]):
            self.message_user(
                request, _("The previewed file is no longer available; upload it again."), messages.ERROR
            )
            return redirect("admin:directory_participant_import_csv")
        try:
            report = import_participants(stored["text"])
        except ImportFileError as exc:
            return self._render_import(request, CsvUploadForm(), None, str(exc))
        if not report.written:
            # The directory changed since the preview and a row no longer validates.
            return self._render_import(request, CsvUploadForm(), report, None)
        del request.session[SESSION_KEY]
        self.message_user(
            request,
            _("Imported %(name)s: %(summary)s.") % {"name": stored["name"], "summary": report.summary},
            messages.SUCCESS,
        )
        return redirect("admin:directory_participant_changelist")

    def _render_import(self, request, form, report, file_error):
        stored = request.session.get(SESSION_KEY)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import participants from CSV"),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "file_error": file_error,
            "rows": [_report_row(r) for r in report.rows if r.action != "unchanged"] if report else [],
            "counts": report and {a: report.count(a) for a in ("create", "update", "unchanged", "error")},
            "file_name": stored["name"] if stored else "",
            "digest": _digest(stored["text"]) if stored and report and not report.errors else "",
            "changelist_url": reverse("admin:directory_participant_changelist"),
        }
        return TemplateResponse(request, "admin/directory/participant/import_csv.html", context)


LINK_HISTORY_LIMIT = 200  # the most recent link changes a participant's history shows
LINK_FIELDS = (
    "supplier_id",
    "customer_id",
    "kind",
    "status",
    "since_year",
    "since_month",
    "until_year",
    "until_month",
    "supplied_segment_id",
    "customer_segment_id",
    "evidence",
    "evidence_zh",
)


def _link_history(object_id):
    """The history of the supply links where participant ``object_id`` is the supplier or
    the customer, newest first: each record with the link as "supplier → customer", its
    kind, and the fields that changed from the link's previous record (two queries: the
    records with their users, the participants' names)."""
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return []
    records = list(
        Relationship.history.filter(Q(supplier_id=pk) | Q(customer_id=pk))
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    ids = {r.supplier_id for r in records} | {r.customer_id for r in records}
    names = {p.pk: str(p) for p in Participant.objects.filter(pk__in=ids).only("name_en", "name_zh")}
    kinds = dict(RelationshipKind.choices)
    rows, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        changes = []
        if before is not None and record.history_type == "~":
            for name in LINK_FIELDS:
                old, new = getattr(before, name), getattr(record, name)
                if old != new:
                    if name in ("supplier_id", "customer_id"):
                        old, new = names.get(old, old), names.get(new, new)
                    elif name == "kind":
                        old, new = kinds.get(old, old), kinds.get(new, new)
                    changes.append((name.removesuffix("_id"), old, new))
        previous[record.id] = record
        rows.append(
            {
                "record": record,
                "link": f"{names.get(record.supplier_id, record.supplier_id)} → "
                f"{names.get(record.customer_id, record.customer_id)}",
                "kind": kinds.get(record.kind, record.kind),
                "changes": changes,
            }
        )
    rows.sort(key=lambda row: (row["record"].history_date, row["record"].history_id), reverse=True)
    return rows[:LINK_HISTORY_LIMIT]


def _report_row(result):
    """One importer RowResult as the preview table shows it: the row's name (rows with
    errors too), its errors, and each change as old -> new."""
    return {
        "line": result.line,
        "action": result.action,
        "name": result.name,
        "slug": result.key,
        "errors": result.errors,
        "diff": [(name, _preview_value(old), _preview_value(new)) for name, old, new in result.diff],
    }


PREVIEW_LENGTH = 160  # characters of a long value (a description) the preview shows


def _preview_value(value):
    text = "" if value is None else str(value)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()
