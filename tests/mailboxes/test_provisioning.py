from datetime import date, timedelta

import pytest

from mailboxes.models import ProvisioningCall
from mailboxes.provisioning import RecordingBackend
from mailboxes.services import provisioning_run

pytestmark = pytest.mark.django_db


class BrokenPlatform:
    def perform(self, **kwargs):
        raise ConnectionError("platform down")


class BrokenForOneAddress(RecordingBackend):
    def perform(self, *, action, address, payload):
        if address == "bloccata@pec.it":
            raise ConnectionError("platform down for this mailbox")
        super().perform(action=action, address=address, payload=payload)


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


# --- the platform follows the mailbox's life, in order ------------------------------------------

EXPIRY = date(2027, 5, 25)  # of make_mailbox's default mailbox


def platform_calls(mailbox) -> list[tuple[str, str]]:
    return list(mailbox.provisioning_calls.order_by("pk").values_list("action", "status"))


def test_a_mailbox_s_calls_run_in_the_order_they_were_made(
    make_mailbox, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox()
    suspend = ProvisioningCall.objects.create(mailbox=mailbox, action="suspend")
    resume = ProvisioningCall.objects.create(mailbox=mailbox, action="resume")
    RecordingBackend.calls.clear()
    # The renewal's task ran first: it waits for the expiry's.
    assert provisioning_run(call_id=resume.pk) == "waiting"
    assert RecordingBackend.calls == []
    with django_capture_on_commit_callbacks(execute=True):
        assert provisioning_run(call_id=suspend.pk) == "done"  # and queues the next one
    assert [c[0] for c in RecordingBackend.calls] == ["suspend", "resume"]
    assert platform_calls(mailbox) == [("suspend", "done"), ("resume", "done")]


def test_expiry_suspends_renewal_in_grace_resumes_and_the_end_of_grace_deletes(
    make_mailbox, django_capture_on_commit_callbacks
):
    from mailboxes.lifecycle import end_grace, expire_mailboxes
    from mailboxes.services import mailbox_renew

    renewed, left = (
        make_mailbox(address="rinnovata@pec.it"),
        make_mailbox(address="lasciata@pec.it"),
    )
    ProvisioningCall.objects.all().delete()
    RecordingBackend.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        expire_mailboxes(today=EXPIRY)
    assert platform_calls(renewed) == platform_calls(left) == [("suspend", "done")]

    with django_capture_on_commit_callbacks(execute=True):
        mailbox_renew(mailbox=renewed, years=1, today=EXPIRY + timedelta(days=10))
    assert [a for a, _ in platform_calls(renewed)] == ["suspend", "resume", "set_quotas"]

    with django_capture_on_commit_callbacks(execute=True):
        end_grace(today=EXPIRY + timedelta(days=90))
    assert platform_calls(left) == [("suspend", "done"), ("delete", "done")]
    assert [a for a, _ in platform_calls(renewed)] == ["suspend", "resume", "set_quotas"]
    # A second run of the same day asks nothing more.
    end_grace(today=EXPIRY + timedelta(days=90))
    expire_mailboxes(today=EXPIRY)
    assert ProvisioningCall.objects.count() == 5
    assert ("delete", "lasciata@pec.it", {}) in RecordingBackend.calls


@pytest.mark.parametrize("at_expiry", [False, True])
def test_a_disdetta_deletes_the_mailbox_on_the_platform_when_it_takes_effect(
    make_mailbox, at_expiry, django_capture_on_commit_callbacks
):
    from mailboxes.lifecycle import expire_mailboxes
    from mailboxes.services import mailbox_cancel

    mailbox = make_mailbox()
    ProvisioningCall.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        mailbox_cancel(mailbox=mailbox, today=date(2026, 11, 25), at_expiry=at_expiry)
    assert platform_calls(mailbox) == ([] if at_expiry else [("delete", "done")])
    with django_capture_on_commit_callbacks(execute=True):
        expire_mailboxes(today=EXPIRY)
    assert platform_calls(mailbox) == [("delete", "done")]


def test_staff_cancel_asks_the_platform_once(make_mailbox, django_user_model):
    from mailboxes.services import mailbox_staff_cancel

    mailbox = make_mailbox()
    staff = django_user_model.objects.create_user("staff", "staff@example.it", "x")
    ProvisioningCall.objects.all().delete()
    mailbox_staff_cancel(mailbox=mailbox, today=date(2026, 11, 25), actor=staff, reason="frode")
    assert [a for a, _ in platform_calls(mailbox)] == ["delete"]


def test_a_failing_call_holds_back_only_its_own_mailbox_and_says_so(make_mailbox, settings):
    from django.utils import timezone

    from mailboxes.services import provisioning_retry_pending

    stuck, fine = make_mailbox(address="bloccata@pec.it"), make_mailbox(address="libera@pec.it")
    ProvisioningCall.objects.all().delete()
    head = ProvisioningCall.objects.create(mailbox=stuck, action="suspend", status="failed")
    behind = ProvisioningCall.objects.create(mailbox=stuck, action="delete")
    ProvisioningCall.objects.create(mailbox=fine, action="suspend")
    ProvisioningCall.objects.create(mailbox=fine, action="resume")
    ProvisioningCall.objects.update(created_at=timezone.now() - timedelta(hours=1))

    assert provisioning_run(call_id=behind.pk) == "waiting"
    behind.refresh_from_db()
    assert f"in attesa della chiamata {head.pk}" in behind.last_error

    settings.PROVISIONING_BACKEND = "tests.mailboxes.test_provisioning.BrokenForOneAddress"
    RecordingBackend.calls.clear()
    assert provisioning_retry_pending() == 2  # `fine`'s two, in order; `stuck` waits
    assert RecordingBackend.calls == [
        ("suspend", "libera@pec.it", {}),
        ("resume", "libera@pec.it", {}),
    ]
    head.refresh_from_db()
    behind.refresh_from_db()
    assert (head.status, behind.status) == ("failed", "pending")

    settings.PROVISIONING_BACKEND = "mailboxes.provisioning.RecordingBackend"
    assert provisioning_retry_pending() == 2
    assert [c[:2] for c in RecordingBackend.calls[2:]] == [
        ("suspend", "bloccata@pec.it"),
        ("delete", "bloccata@pec.it"),
    ]
    assert set(ProvisioningCall.objects.values_list("status", flat=True)) == {"done"}
