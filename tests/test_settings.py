"""Production settings fail loudly on missing values; development needs none."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def django_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    dropped = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "false", "ALLOWED_HOSTS": "shop.example.it"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "short", "ALLOWED_HOSTS": "a.it"}, "at least 50"),
        ({"PEC_DOMAINS": " , "}, "PEC_DOMAINS"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(overrides, message):
    result = django_check(overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = django_check(
        {
            "DEBUG": "false",
            "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
            "ALLOWED_HOSTS": "shop.example.it",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr


def test_the_shop_speaks_italian_in_rome_time(settings):
    assert settings.LANGUAGE_CODE == "it"
    assert settings.TIME_ZONE == "Europe/Rome"
    assert settings.PEC_DOMAINS


@pytest.mark.django_db
def test_the_health_check_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def site_url(env_overrides: dict[str, str]) -> str:
    dropped = {"SITE_URL", "HOST", "PORT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    code = "from django.conf import settings as s; print(s.SITE_URL, s.PAYMENT_BASE_URL)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8101"}, "http://127.0.0.1:8101"),
        ({"HOST": "localhost", "PORT": "8101"}, "http://localhost:8101"),
        ({"HOST": "0.0.0.0", "PORT": "8101"}, "http://127.0.0.1:8101"),
        ({"PORT": "8101", "SITE_URL": "https://shop.example.it/"}, "https://shop.example.it"),
    ],
)
def test_payment_returns_and_email_links_follow_the_served_address(overrides, expected):
    assert site_url(overrides) == f"{expected} {expected}"


def test_make_run_passes_host_and_port_to_the_server_and_the_worker():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert "export HOST PORT" in script
    assert "HOST=$(HOST) PORT=$(PORT) scripts/run.sh" in (ROOT / "Makefile").read_text()
