import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from operations.health import CHECKS, run_checks


class Command(BaseCommand):
    help = (
        "Run the health checks (all of /readyz, or those named with --check) and exit "
        "non-zero naming what fails. Used by the compose healthchecks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="append", choices=sorted(CHECKS), default=[])
        parser.add_argument("--worker", default="", help="ping only this worker (celery@host)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        if options["worker"]:
            settings.HEALTH_WORKER_NAME = options["worker"]
        results = run_checks(options["check"] or None)
        if options["json"]:
            self.stdout.write(
                json.dumps({r.name: r.as_dict(detail=True) for r in results}, ensure_ascii=False)
            )
        else:
            for r in results:
                self.stdout.write(f"{r.name}: {'OK' if r.ok else 'NON OK'} - {r.message}")
        failing = [r.name for r in results if not r.ok]
        if failing:
            raise CommandError(f"controlli non superati: {', '.join(failing)}")
