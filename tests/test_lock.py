"""The lock files pin every dependency with hashes and agree with requirements*.txt."""

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ["requirements.txt", "requirements-dev.txt", "requirements.lock", "requirements-dev.lock"]


def load_checker(root: Path):
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts/check_lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ROOT = root
    return module


@pytest.fixture
def copy(tmp_path):
    for name in FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_lock_files_agree_with_the_requirements():
    assert load_checker(ROOT).problems() == []


def test_every_locked_dependency_has_a_hash_and_the_indirect_ones_are_there():
    checker = load_checker(ROOT)
    entries = checker.lock_entries(ROOT / "requirements.lock")
    assert all(hashed for _, hashed, _ in entries.values())
    assert {"amqp", "billiard", "vine", "asgiref", "sqlparse", "urllib3"} <= set(entries)


def test_a_requirement_added_without_locking_is_named(copy):
    with (copy / "requirements.txt").open("a") as f:
        f.write("tablib==3.5.0\n")
    assert load_checker(copy).problems() == [
        "requirements.lock: tablib==3.5.0 of requirements.txt is not locked",
        "requirements-dev.lock: tablib==3.5.0 of requirements-dev.txt is not locked",
    ]


def test_a_changed_pin_or_a_dropped_requirement_is_named(copy):
    text = (copy / "requirements.txt").read_text()
    text = text.replace("fpdf2==2.8.9\n", "fpdf2==2.8.8\n").replace("a38==0.1.8\n", "")
    (copy / "requirements.txt").write_text(text)
    found = load_checker(copy).problems()
    assert "requirements.lock: fpdf2 is 2.8.9, requirements.txt says 2.8.8" in found
    assert "requirements.lock: a38==0.1.8 is no longer in requirements.txt" in found
