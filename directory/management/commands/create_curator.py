import getpass
import os

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

ROLES = {"editor": "Editors", "moderator": "Moderators"}


class Command(BaseCommand):
    help = (
        "Create a curator: a staff user in the Editors and/or Moderators group. The password "
        "is asked for, or read from the CURATOR_PASSWORD environment variable."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--role",
            action="append",
            choices=sorted(ROLES),
            required=True,
            help="editor (edits directory data) or moderator (reviews submissions); may repeat",
        )

    def handle(self, username, email, role, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"a user named {username} already exists")
        groups = list(Group.objects.filter(name__in=[ROLES[r] for r in role]))
        if len(groups) != len(set(role)):
            raise CommandError("the curator groups are missing: run `python manage.py migrate` first")
        password = os.environ.get("CURATOR_PASSWORD") or self._ask_password()
        user = User(username=username, email=email, is_staff=True)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(password)
        user.save()
        user.groups.set(groups)
        names = ", ".join(g.name for g in groups)
        login = reverse("admin:login")
        self.stdout.write(f"Created curator {username} ({names}); they can log in at {login}")

    def _ask_password(self):
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return password
