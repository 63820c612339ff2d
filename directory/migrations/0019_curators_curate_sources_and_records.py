"""Curators' permissions on the models added since the groups were made (0005): Editors
add, change and view sources, kinds of record and records; Moderators view them (a
correction may propose a record with its source)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

NEW_DATA = ["source", "recordkind", "record"]
GROUPS = {
    "Editors": [f"{action}_{model}" for model in NEW_DATA for action in ("add", "change", "view")],
    "Moderators": [f"view_{model}" for model in NEW_DATA],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("directory")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = True  # create_permissions skips apps without models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="directory", codename__in=codenames)
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"missing permissions for the {name} group")
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="directory", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("directory", "0018_chinese_sort_key")]

    operations = [migrations.RunPython(grant, revoke)]
