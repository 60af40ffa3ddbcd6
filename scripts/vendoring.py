"""Vendor pinned npm files into the package, verified, and check them offline.

scripts/fetch_graphiql.py and scripts/fetch_console.py each name their pins and
call main(): this module downloads the exact versions from the npm registry,
checks each tarball against the registry's sha512 `dist.integrity` (and against
the lock, when the lock already pins that version), copies the named files out,
applies the few byte patches a vendor needs and writes the lock; `--check`
compares the vendored folder with the lock without any network.
"""

import argparse
import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Vendoring:
    """What one fetch script vendors, and where."""

    label: str  # in messages: "GraphiQL", "console"
    folder: Path  # the vendor/ folder served by the app
    lock: Path
    # package, version, {file in the tarball: name under the folder}
    pins: list[tuple[str, str, dict[str, str]]]
    # name under the folder: (exact bytes, replacement), applied once, checked
    patches: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)


def sri(data: bytes) -> str:
    """The Subresource Integrity string npm uses: sha512, base64."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def get(url: str) -> bytes:
    """GET a URL from the registry (60 s timeout, failing loudly)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


def read_lock(vendoring: Vendoring) -> dict[str, Any]:
    """The current lock, or an empty one."""
    if not vendoring.lock.exists():
        return {"packages": {}}
    lock: dict[str, Any] = json.loads(vendoring.lock.read_text())
    return lock


def patched(vendoring: Vendoring, target: str, data: bytes) -> bytes:
    """The file as served: its one patch applied, or the bytes unchanged."""
    if target not in vendoring.patches:
        return data
    old, new = vendoring.patches[target]
    if data.count(old) != 1:
        sys.exit(f"{target}: expected one {old!r} to patch; the package changed")
    return data.replace(old, new)


def fetch(vendoring: Vendoring, registry: str) -> None:
    """Download every pin, verify it, copy its files and rewrite the lock."""
    old = read_lock(vendoring)["packages"]
    files: dict[str, bytes] = {}
    packages: dict[str, Any] = {}
    for name, version, members in vendoring.pins:
        quoted = urllib.parse.quote(name, safe="@")  # @scope/name -> @scope%2Fname
        meta = json.loads(get(f"{registry}/{quoted}/{version}"))
        integrity = meta["dist"]["integrity"]
        locked = old.get(name, {})
        # Same version, different bytes: the registry or a mirror changed a
        # published tarball, which npm forbids; refuse rather than vendor it.
        if locked.get("version") == version and locked["integrity"] != integrity:
            sys.exit(f"{name}@{version}: registry integrity differs from the lock")
        tarball = get(meta["dist"]["tarball"])
        if sri(tarball) != integrity:
            sys.exit(f"{name}@{version}: tarball does not match dist.integrity")
        packages[name] = {
            "version": version,
            "license": meta.get("license"),
            "tarball": meta["dist"]["tarball"],
            "integrity": integrity,
            "files": {},
        }
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for member, target in members.items():
                info = archive.getmember(member)
                handle = archive.extractfile(info) if info.isfile() else None
                if handle is None:
                    sys.exit(f"{name}@{version}: {member} is not a regular file")
                files[target] = patched(vendoring, target, handle.read())
                entry = {
                    "from": member,
                    "sha256": hashlib.sha256(files[target]).hexdigest(),
                    "bytes": len(files[target]),
                }
                if vendoring.patches:
                    entry["patched"] = target in vendoring.patches
                packages[name]["files"][target] = entry
        print(f"{name}@{version} verified ({integrity[:22]}...)")
    folder = vendoring.folder
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        if stale.name not in files:
            stale.unlink()
    for target, data in files.items():
        (folder / target).write_bytes(data)
    lock = {"registry": registry, "packages": packages}
    vendoring.lock.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    total = sum(len(data) for data in files.values())
    print(
        f"wrote {len(files)} files ({total / 1e3:.0f} kB) to {folder.relative_to(ROOT)}"
    )


def check(vendoring: Vendoring) -> list[str]:
    """Differences between the vendor folder and the lock; empty when in step."""
    expected: dict[str, str] = {}
    pins = {name: version for name, version, _ in vendoring.pins}
    locked = read_lock(vendoring)["packages"]
    problems = []
    for name, entry in locked.items():
        if pins.get(name) != entry["version"]:
            problems.append(
                f"{name}: lock has {entry['version']}, pinned {pins.get(name)}"
            )
        for target, info in entry["files"].items():
            expected[target] = info["sha256"]
    if set(pins) != set(locked):
        problems.append("the lock and the pins name different packages")
    folder = vendoring.folder
    present = {path.name for path in folder.iterdir()} if folder.is_dir() else set()
    for target in sorted(present | set(expected)):
        path = folder / target
        if target not in expected:
            problems.append(f"{target}: not in the lock")
        elif not path.is_file():
            problems.append(f"{target}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != expected[target]:
            problems.append(f"{target}: differs from the lock")
    return problems


def main(vendoring: Vendoring, description: str) -> None:
    """Fetch the pins, or with --check compare the vendored files to the lock."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--check", action="store_true", help="verify offline, fetch nothing"
    )
    parser.add_argument("--registry", default=REGISTRY, help="npm registry base URL")
    args = parser.parse_args()
    if args.check:
        problems = check(vendoring)
        for problem in problems:
            print(problem)
        label, lock = vendoring.label, vendoring.lock.name
        if problems:
            sys.exit(f"vendored {label} files differ from the lock; run this script")
        print(f"vendored {label} files match {lock}")
        return
    fetch(vendoring, args.registry.rstrip("/"))
