from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max

from billing.lifecycle import invariant_violations
from billing.models import Invoice
from mailboxes.models import ProvisioningCall, ProvisioningStatus
from outbox.models import EmailStatus, OutboundEmail


class Command(BaseCommand):
    help = (
        "Check a restored database before the shop runs on it: every migration applied, "
        "the invariants of mailboxes, orders, payments and invoices hold, invoice numbers "
        "gapless per year. Lists what waits in the outboxes (it will be sent once the "
        "workers start). Exit 1 naming every problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        alias = options["database"]
        problems = []

        connection = connections[alias]
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if unapplied:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in unapplied)
            problems.append(f"migrazioni non applicate: {names}")
        else:
            applied = len(executor.loader.applied_migrations)
            self.stdout.write(f"migrazioni: tutte applicate ({applied})")

        if not unapplied:
            violations = invariant_violations(limit=20)
            problems += violations
            if not violations:
                self.stdout.write("invarianti: rispettati")
            years = (
                Invoice.objects.using(alias)
                .values("year")
                .annotate(n=Count("pk"), last=Max("number"))
                .order_by("year")
            )
            for row in years:
                gapless = row["n"] == row["last"]
                self.stdout.write(
                    f"fatture {row['year']}: {row['n']}, ultima {row['year']}/{row['last']}"
                    + ("" if gapless else " (numerazione con buchi)")
                )
            emails = OutboundEmail.objects.using(alias).exclude(status=EmailStatus.SENT).count()
            calls = (
                ProvisioningCall.objects.using(alias)
                .exclude(status=ProvisioningStatus.DONE)
                .count()
            )
            self.stdout.write(
                f"in attesa di invio: {emails} e-mail, {calls} chiamate alla piattaforma "
                "(partiranno all'avvio dei worker: verificare che non siano già state "
                "inviate dopo l'ora del backup)"
            )

        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"{len(problems)} problemi nel database ripristinato.")
        self.stdout.write("Database ripristinato: controlli superati.")
