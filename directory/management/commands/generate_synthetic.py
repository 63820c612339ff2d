import time

from django.core.management.base import BaseCommand, CommandError

from directory.benchmarks.synthetic import clear_synthetic, generate_synthetic


class Command(BaseCommand):
    help = (
        "Add N synthetic benchmark participants (slug syn-…, is_synthetic, tag 'synthetic'), "
        "or remove them all with --clear. The real data is never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=0, help="how many to add")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="delete all synthetic data first (on PostgreSQL the tables are then compacted, "
            "which locks them for a few seconds)",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")

    def handle(self, participants, clear, batch_size, seed, **options):
        if participants < 0 or batch_size < 1:
            raise CommandError("--participants must be >= 0 and --batch-size >= 1")
        if not clear and not participants:
            raise CommandError("give --participants N and/or --clear")
        started = time.monotonic()
        if clear:
            self.stdout.write(f"cleared {clear_synthetic()} synthetic participants")
        if participants:

            def progress(done, total):
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(f"  {done}/{total} participants ({rate:,.0f}/s)")

            created = generate_synthetic(participants, batch_size=batch_size, seed=seed, progress=progress)
            self.stdout.write(
                f"created {created} synthetic participants in {time.monotonic() - started:.1f} s"
            )
