from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = _("Directory")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The admin lives with the rest of curation (directory/curation/admin/), where
        # Django's autodiscovery, which imports ``directory.admin``, does not look.
        from django.db.models.signals import post_migrate

        from directory.catalog import cache
        from directory.curation import admin  # noqa: F401  (registers the ModelAdmins)

        cache.connect_invalidation()
        post_migrate.connect(_search_table, sender=self, dispatch_uid="directory-fts")


def _search_table(using, **kwargs):
    from django.db import connections

    from directory.catalog.search import ensure_fts

    ensure_fts(connections[using])
