"""The edge towards the mail platform that hosts the mailboxes.

`ProvisioningCall` rows are written in the same transaction as the change they follow; a
Celery task runs each one after commit through the configured backend, and retries it.
"""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ProvisioningError(Exception):
    """The platform refused or did not answer; the call will be retried."""


class Backend(Protocol):
    def perform(self, *, action: str, address: str, payload: dict) -> None: ...


class RecordingBackend:
    """Records every call it is asked to make (in the log and in `calls`) and succeeds.

    It stands in for the provider's platform API until one is configured with
    PROVISIONING_BACKEND.
    """

    calls: list[tuple[str, str, dict]] = []

    def perform(self, *, action: str, address: str, payload: dict) -> None:
        self.calls.append((action, address, payload))
        logger.info("provisioning %s %s %s", action, address, payload)


def get_backend() -> Backend:
    return import_string(settings.PROVISIONING_BACKEND)()
