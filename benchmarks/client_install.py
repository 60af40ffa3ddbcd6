"""Time a fresh install of each client package and measure what it leaves on disk.

darkroom-client (clients/python) into a venv without pip, by this interpreter's
pip, as tests/clients/test_python_package.py installs it; @darkroom/client
(clients/typescript) as the tarball `npm pack` makes, into a fresh Node project.
Each install runs `--runs` times from a warm package cache (pip's and npm's),
which is what a user's second project sees; the first run's time is reported too.

    .venv/bin/python benchmarks/client_install.py
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ahead of benchmarks/, whose engine.py is not ours

from benchmarks.machine import machine  # noqa: E402

RESULTS = Path(__file__).with_name("RESULTS.md")


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def python_client(work: Path) -> tuple[float, float]:
    """Seconds to make the venv and install darkroom-client; the venv's MB."""
    source = shutil.copytree(ROOT / "clients" / "python", work / "client")
    venv = work / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run([*pip, "install", "-q", source], check=True, capture_output=True)
    return time.perf_counter() - started, size_mb(venv)


def typescript_tarball(work: Path) -> Path:
    package = ROOT / "clients" / "typescript"
    subprocess.run(
        ["npm", "run", "build"], cwd=package, check=True, capture_output=True
    )
    packed = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(work)],
        cwd=package, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return work / json.loads(packed.stdout)[0]["filename"]


def typescript_client(work: Path, tarball: Path) -> tuple[float, float]:
    """Seconds to install the tarball into a fresh project; node_modules' MB."""
    app = work / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    started = time.perf_counter()
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", str(tarball)],
        cwd=app, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started, size_mb(app / "node_modules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    header = machine()
    figures: dict[str, list[tuple[float, float]]] = {"python": [], "typescript": []}
    with tempfile.TemporaryDirectory() as folder:
        tarball = typescript_tarball(Path(folder))
        for run in range(args.runs):
            work = Path(folder) / f"run{run}"
            work.mkdir()
            figures["python"].append(python_client(work / "py"))
            (work / "ts").mkdir()
            figures["typescript"].append(typescript_client(work / "ts", tarball))
    lines = [
        "## Client install (benchmarks/client_install.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {header}, {args.runs} runs each"
        " (package caches warm after the first; the index is this machine's local"
        " mirror, npm's the public registry).",
        "",
        "| package | first install s | median install s | on disk MB |",
        "|---|---|---|---|",
    ]
    names = {
        "python": "darkroom-client (venv without pip, whole venv measured)",
        "typescript": "@darkroom/client (npm pack tarball, node_modules measured)",
    }
    for key, runs in figures.items():
        seconds = [s for s, _ in runs]
        lines.append(
            f"| {names[key]} | {seconds[0]:.1f} | {statistics.median(seconds):.1f}"
            f" | {runs[-1][1]:.1f} |"
        )
    text = "\n".join([*lines, ""])
    print(text)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    main()
