"""The curators' groups, with exactly these permissions:

- Editors: add, change and view directory data (segments, tags, participants, offerings,
  relationships). They do not review submissions.
- Moderators: view and change submissions (review them); view directory data.

Hard delete is left to superusers (the admin offers "archive" instead).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DIRECTORY_DATA = ["segment", "tag", "participant", "offering", "relationship"]
GROUPS = {
    "Editors": [f"{action}_{model}" for model in DIRECTORY_DATA for action in ("add", "change", "view")],
    "Moderators": ["view_submission", "change_submission"] + [f"view_{model}" for model in DIRECTORY_DATA],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); on a fresh
    # database they do not exist yet, so create them now for this app.
    app_config = apps.get_app_config("directory")
    app_config.models_module = True  # create_permissions skips apps without models
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(content_type__app_label="directory", codename__in=codenames)
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"missing permissions for the {name} group")
        group.permissions.set(permissions)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0004_index_tuning"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
