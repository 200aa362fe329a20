#!/usr/bin/env python3
"""Do the lock files agree with requirements*.txt? Exit 1 naming every disagreement.

requirements.txt and requirements-dev.txt list the direct dependencies, pinned with ==;
requirements.lock and requirements-dev.lock are generated from them by `make lock`
(pip-compile --generate-hashes) and pin every direct and indirect dependency with hashes.
They disagree when a direct pin is missing from its lock or has another version there, when
the lock still holds a direct dependency the requirements no longer list, or when a lock
entry has no hash. Offline and deterministic: it reads the files only.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [
    ("requirements.txt", "requirements.lock"),
    ("requirements-dev.txt", "requirements-dev.lock"),
]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(path: Path, seen=None) -> dict[str, str]:
    """name -> version of the == pins of a requirements file, following `-r` includes."""
    seen = seen or set()
    if path in seen:
        return {}
    seen.add(path)
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(direct_pins(path.parent / line.split(None, 1)[1], seen))
            continue
        match = PIN.match(line)
        if not match:
            raise SystemExit(f"{path.name}: not pinned with ==: {line!r}")
        pins[canonical(match.group(1))] = match.group(3)
    return pins


def lock_entries(path: Path) -> dict[str, tuple[str, bool, str]]:
    """name -> (version, has a hash, the `# via` lines) of a pip-compile lock file."""
    entries: dict[str, tuple[str, bool, str]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonical(match.group(1))
            entries[current] = (match.group(3), False, "")
        elif current and "--hash=sha256:" in line:
            version, _, via = entries[current]
            entries[current] = (version, True, via)
        elif current and line.strip().startswith("#"):
            version, hashed, via = entries[current]
            entries[current] = (version, hashed, via + line)
    return entries


def problems() -> list[str]:
    out = []
    for source, lock in PAIRS:
        if not (ROOT / lock).exists():
            out.append(f"{lock} is missing")
            continue
        pins = direct_pins(ROOT / source)
        entries = lock_entries(ROOT / lock)
        for name, version in sorted(pins.items()):
            if name not in entries:
                out.append(f"{lock}: {name}=={version} of {source} is not locked")
            elif entries[name][0] != version:
                out.append(f"{lock}: {name} is {entries[name][0]}, {source} says {version}")
        for name, (version, hashed, via) in sorted(entries.items()):
            if not hashed:
                out.append(f"{lock}: {name}=={version} has no hash")
            wanted_by = re.sub(r"#\s*(via)?", " ", via).split()
            only_direct = wanted_by and all(w.startswith(("-r", "requirements")) for w in wanted_by)
            if only_direct and name not in pins:
                out.append(f"{lock}: {name}=={version} is no longer in {source}")
    return out


def main() -> int:
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            "The lock files disagree with requirements*.txt: run `make lock` and commit "
            "requirements.lock and requirements-dev.lock.",
            file=sys.stderr,
        )
        return 1
    print("requirements.lock and requirements-dev.lock agree with requirements*.txt.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
