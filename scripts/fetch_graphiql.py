"""Vendor GraphiQL, React and the explorer plugin into api/graphiql/vendor/.

Darkroom serves GraphiQL from its own package so the page works offline and
loads nothing from a CDN. This script downloads the exact versions pinned below
from the npm registry, checks each tarball against the registry's sha512
`dist.integrity` (and against the lock, when the lock already pins that version),
copies the browser builds out byte for byte and writes graphiql.lock.json.

    python scripts/fetch_graphiql.py            # fetch the pins, rewrite the lock
    python scripts/fetch_graphiql.py --check    # offline: files match the lock

Why GraphiQL 4.1: it is the last major that ships a UMD build (graphiql.min.js),
which runs from plain <script> tags without a bundler. It bundles graphql-js 16,
@graphiql/react and toolkit, CodeMirror 5 and the graphql-ws client that
createGraphiQLFetcher uses for subscriptionUrl, so those need no files of their
own; the explorer plugin's UMD reads React and GraphiQL's exports from globals.
GraphiQL 5 is ESM-only on Monaco (web workers, several MB) and would need a
bundler step. React stays on 18: React 19 dropped its UMD builds.
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
VENDOR = ROOT / "api" / "graphiql" / "vendor"
LOCK = ROOT / "scripts" / "graphiql.lock.json"
REGISTRY = "https://registry.npmjs.org"

# package, version, {file in the tarball: name under vendor/}
PINS: list[tuple[str, str, dict[str, str]]] = [
    (
        "react",
        "18.3.1",
        {
            "package/umd/react.production.min.js": "react.production.min.js",
            "package/LICENSE": "LICENSE.react",
        },
    ),
    (
        "react-dom",
        "18.3.1",
        {
            "package/umd/react-dom.production.min.js": "react-dom.production.min.js",
            "package/LICENSE": "LICENSE.react-dom",
        },
    ),
    (
        "graphiql",
        "4.1.2",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
            "package/LICENSE": "LICENSE.graphiql",
        },
    ),
    (
        # No LICENSE file in its tarball; the lock records its MIT licence.
        "@graphiql/plugin-explorer",
        "4.0.6",
        {
            "package/dist/index.umd.js": "plugin-explorer.umd.js",
            "package/dist/style.css": "plugin-explorer.css",
        },
    ),
]


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


def fetch(registry: str) -> None:
    """Download every pin, verify it, copy its files and rewrite the lock."""
    old = read_lock()["packages"]
    files: dict[str, bytes] = {}
    packages: dict[str, Any] = {}
    for name, version, members in PINS:
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
                files[target] = handle.read()
                packages[name]["files"][target] = {
                    "from": member,
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
        f"wrote {len(files)} files ({total / 1e6:.2f} MB) to {VENDOR.relative_to(ROOT)}"
    )


def check() -> list[str]:
    """Differences between api/graphiql/vendor/ and the lock; empty when in step."""
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
            sys.exit("vendored GraphiQL files differ from the lock; run this script")
        print("vendored GraphiQL files match graphiql.lock.json")
        return
    fetch(args.registry.rstrip("/"))


if __name__ == "__main__":
    main()
