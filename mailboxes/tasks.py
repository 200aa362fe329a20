"""Celery tasks of the mailboxes app: thin, by id, idempotent."""

from celery import shared_task

from mailboxes.provisioning import ProvisioningError


@shared_task(
    bind=True,
    autoretry_for=(ProvisioningError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def run_provisioning_call(self, call_id: int) -> str:
    from mailboxes.services import provisioning_run

    return provisioning_run(call_id=call_id, raise_on_failure=True)


@shared_task
def retry_failed_provisioning() -> int:
    from mailboxes.services import provisioning_retry_pending

    return provisioning_retry_pending()
