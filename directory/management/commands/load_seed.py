from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Load the real chain data shipped in data/seed/ (participants-*.csv, then "
        "relationships-*.csv). Idempotent: a second run reports everything unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, dry_run, **options):
        seed = settings.BASE_DIR / "data" / "seed"
        files = sorted(seed.glob("participants-*.csv")) + sorted(seed.glob("relationships-*.csv"))
        for path in files:
            command = (
                "import_participants" if path.name.startswith("participants") else "import_relationships"
            )
            call_command(command, str(path), dry_run=dry_run, stdout=self.stdout, stderr=self.stderr)
