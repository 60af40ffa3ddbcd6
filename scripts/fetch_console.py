"""Vendor Preact, its hooks, htm and uPlot into api/console/vendor/.

The console is plain ES modules served from the package: no build step at
install, no CDN, nothing fetched at run time. This script downloads the exact
versions pinned below from the npm registry, checks each tarball against the
registry's sha512 `dist.integrity` (and against the lock, when the lock already
pins that version), copies the ES module builds out and writes console.lock.json.

    python scripts/fetch_console.py            # fetch the pins, rewrite the lock
    python scripts/fetch_console.py --check    # offline: files match the lock

Why these: Preact (10 KB gzipped with hooks) gives components and hooks; htm
gives them JSX-like templates from tagged template literals, so no compiler;
uPlot draws the usage chart on a canvas in about 40 KB gzipped. All three ship
ready ES modules. The one change made to a file: preact/hooks imports the bare
name "preact", which a browser resolves only through an import map (an inline
script the console's CSP refuses), so that one import is pointed at the file
beside it; the lock records the sha256 of the file as served.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "api" / "console" / "vendor"
LOCK = ROOT / "scripts" / "console.lock.json"
REGISTRY = "https://registry.npmjs.org"

# package, version, {file in the tarball: name under vendor/}
PINS: list[tuple[str, str, dict[str, str]]] = [
    (
        "preact",
        "10.27.2",
        {
            "package/dist/preact.module.js": "preact.module.js",
            "package/hooks/dist/hooks.module.js": "hooks.module.js",
            "package/LICENSE": "LICENSE.preact",
        },
    ),
    (
        "htm",
        "3.1.1",
        {
            "package/dist/htm.module.js": "htm.module.js",
            "package/LICENSE": "LICENSE.htm",
        },
    ),
    (
        "uplot",
        "1.6.32",
        {
            "package/dist/uPlot.esm.js": "uPlot.esm.js",
            "package/dist/uPlot.min.css": "uPlot.min.css",
            "package/LICENSE": "LICENSE.uplot",
        },
    ),
]
# name under vendor/: (exact bytes, replacement), applied once, checked present.
PATCHES = {"hooks.module.js": (b'from"preact"', b'from"./preact.module.js"')}


def sri(data: bytes) -> str:
    """The Subresource Integrity string npm uses: sha512, base64."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def get(url: str) -> bytes:
    """GET a URL from the registry (60 s timeout, failing loudly)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


def read_lock() -> dict[str, Any]:
    """The current lock, or an empty one."""
    if not LOCK.exists():
        return {"packages": {}}
    lock: dict[str, Any] = json.loads(LOCK.read_text())
    return lock


def patched(target: str, data: bytes) -> bytes:
    """The file as served: its one patch applied, or the bytes unchanged."""
    if target not in PATCHES:
        return data
    old, new = PATCHES[target]
    if data.count(old) != 1:
        sys.exit(f"{target}: expected one {old!r} to patch; the package changed")
    return data.replace(old, new)


def fetch(registry: str) -> None:
    """Download every pin, verify it, copy its files and rewrite the lock."""
    old = read_lock()["packages"]
    files: dict[str, bytes] = {}
    packages: dict[str, Any] = {}
    for name, version, members in PINS:
        quoted = urllib.parse.quote(name, safe="@")
        meta = json.loads(get(f"{registry}/{quoted}/{version}"))
        integrity = meta["dist"]["integrity"]
        locked = old.get(name, {})
        # Same version, different bytes: a published tarball changed, which npm
        # forbids; refuse rather than vendor it.
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
                files[target] = patched(target, handle.read())
                packages[name]["files"][target] = {
                    "from": member,
                    "patched": target in PATCHES,
                    "sha256": hashlib.sha256(files[target]).hexdigest(),
                    "bytes": len(files[target]),
                }
        print(f"{name}@{version} verified ({integrity[:22]}...)")
    VENDOR.mkdir(parents=True, exist_ok=True)
    for stale in VENDOR.iterdir():
        if stale.name not in files:
            stale.unlink()
    for target, data in files.items():
        (VENDOR / target).write_bytes(data)
    lock = {"registry": registry, "packages": packages}
    LOCK.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    total = sum(len(data) for data in files.values())
    print(
        f"wrote {len(files)} files ({total / 1e3:.0f} kB) to {VENDOR.relative_to(ROOT)}"
    )


def check() -> list[str]:
    """Differences between api/console/vendor/ and the lock; empty when in step."""
    expected: dict[str, str] = {}
    pins = {name: version for name, version, _ in PINS}
    locked = read_lock()["packages"]
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
    present = {path.name for path in VENDOR.iterdir()} if VENDOR.is_dir() else set()
    for target in sorted(present | set(expected)):
        path = VENDOR / target
        if target not in expected:
            problems.append(f"{target}: not in the lock")
        elif not path.is_file():
            problems.append(f"{target}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != expected[target]:
            problems.append(f"{target}: differs from the lock")
    return problems


def main() -> None:
    """Fetch the pins, or with --check compare the vendored files to the lock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify offline, fetch nothing"
    )
    parser.add_argument("--registry", default=REGISTRY, help="npm registry base URL")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for problem in problems:
            print(problem)
        if problems:
            sys.exit("vendored console files differ from the lock; run this script")
        print("vendored console files match console.lock.json")
        return
    fetch(args.registry.rstrip("/"))


if __name__ == "__main__":
    main()
