"""The curators' admin: directory data (participants.py, directory_data.py) and the
moderation queue (submissions.py)."""

from directory.curation.admin import directory_data, participants, submissions  # noqa: F401  (registers the ModelAdmins)
