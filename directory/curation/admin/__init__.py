"""The curators' admin: directory data (participants.py, directory_data.py) and the
moderation queue (submissions.py)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from directory.curation.admin import directory_data, participants, submissions  # noqa: F401  (registers the ModelAdmins)

# The admin's name in its header and page titles, in the curator's language; pages the
# admin site does not render itself (the login lockout) take it from admin/base_site.html.
admin.site.site_header = admin.site.site_title = _("chainsite curation")
