import pytest

from mailboxes.models import ProvisioningCall
from mailboxes.provisioning import RecordingBackend
from mailboxes.services import provisioning_run

pytestmark = pytest.mark.django_db


class BrokenPlatform:
    def perform(self, **kwargs):
        raise ConnectionError("platform down")


def test_a_call_is_carried_out_once_and_recorded(make_mailbox):
    call = ProvisioningCall.objects.create(mailbox=make_mailbox(), action="create")
    RecordingBackend.calls.clear()
    assert provisioning_run(call_id=call.pk) == "done"
    assert provisioning_run(call_id=call.pk) == "skipped"
    assert RecordingBackend.calls == [("create", "studio@pec.it", {})]
    call.refresh_from_db()
    assert (call.status, call.attempts) == ("done", 1)


def test_a_failed_call_stays_visible_and_succeeds_when_retried(make_mailbox, settings):
    call = ProvisioningCall.objects.create(mailbox=make_mailbox(), action="set_quotas")
    settings.PROVISIONING_BACKEND = "tests.mailboxes.test_provisioning.BrokenPlatform"
    assert provisioning_run(call_id=call.pk) == "failed"
    call.refresh_from_db()
    assert (call.status, call.attempts) == ("failed", 1)
    assert "platform down" in call.last_error

    settings.PROVISIONING_BACKEND = "mailboxes.provisioning.RecordingBackend"
    assert provisioning_run(call_id=call.pk) == "done"
    call.refresh_from_db()
    assert (call.status, call.attempts, call.last_error) == ("done", 2, "")


def test_the_task_raises_to_be_retried_by_celery(make_mailbox, settings):
    from mailboxes.provisioning import ProvisioningError

    call = ProvisioningCall.objects.create(mailbox=make_mailbox(), action="create")
    settings.PROVISIONING_BACKEND = "tests.mailboxes.test_provisioning.BrokenPlatform"
    with pytest.raises(ProvisioningError):
        provisioning_run(call_id=call.pk, raise_on_failure=True)


def test_the_retry_job_runs_failed_and_forgotten_calls_only(make_mailbox, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    mailbox = make_mailbox()
    old = timezone.now() - timedelta(hours=1)
    failed = ProvisioningCall.objects.create(mailbox=mailbox, action="create", status="failed")
    forgotten = ProvisioningCall.objects.create(mailbox=mailbox, action="set_quotas")
    fresh = ProvisioningCall.objects.create(mailbox=mailbox, action="suspend")
    ProvisioningCall.objects.filter(pk__in=[failed.pk, forgotten.pk]).update(created_at=old)

    call_command("retry_provisioning")

    statuses = dict(ProvisioningCall.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: "done", forgotten.pk: "done", fresh.pk: "pending"}
