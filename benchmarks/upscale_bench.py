"""Time the upscalers and their peak memory, each case in a fresh process.

Run ``python benchmarks/upscale_bench.py [--quick]``: it prints markdown rows and
appends them to benchmarks/RESULTS.md under a dated heading. Peak RSS is the
child's own ``ru_maxrss``, so cases never see each other's memory and other
processes on the machine cannot inflate it; wall times on a shared machine can
still be, so the load average is recorded with them.
"""

import argparse
import contextlib
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and its engine.py (the
# generation benchmark) would shadow the engine package.
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADER = (
    "| upscaler | backend | input → output | tiles | seconds | peak RSS |\n"
    "|---|---|---|---|---|---|"
)
# x4plus takes many minutes per megapixel on CPU: a run still going after this
# long stops, and its time is extrapolated from the tiles it finished ("est.").
# Peak RSS stays real: the full output is allocated before the first tile.
BUDGET_SECONDS = 60.0
ROUNDS = 5  # alternating torch/ncnn processes for the backend comparison


def run(quick: bool = False) -> list[str]:
    """Run every case, each in a fresh process, and return markdown table rows."""
    from engine.catalog import builtin_catalog

    upscalers = builtin_catalog(Path(tempfile.gettempdir())).upscalers
    compact = next(u for u in upscalers.values() if u.architecture == "compact")
    sizes = (256,) if quick else (256, 1024)
    cases = [(model_id, None, size) for model_id in upscalers for size in sizes]
    with tempfile.TemporaryDirectory() as cache_dir:
        rows = [_row(_in_child(case, cache_dir, quick)) for case in cases]
        # The same compact weights on both backends, alternating so that load
        # from other work on the machine hits both alike; the best run of each
        # counts. If ncnn keeps up with torch, x4plus loses nothing on ncnn.
        best: dict[str, dict] = {}
        for _ in range(1 if quick else ROUNDS):
            for backend in ("torch", "ncnn"):
                r = _in_child((compact.id, backend, 256), cache_dir, quick)
                if backend not in best or r["seconds"] < best[backend]["seconds"]:
                    best[backend] = r
        note = "" if quick else f" (best of {ROUNDS}, alternating)"
        rows += [_row(r, note) for r in best.values()]
    return rows


def _in_child(case: tuple[str, str | None, int], cache_dir: str, quick: bool) -> dict:
    model_id, backend, size = case
    args = json.dumps([model_id, backend, size, cache_dir, 1 if quick else 3])
    done = subprocess.run(
        [sys.executable, __file__, "--case", args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def _case(
    model_id: str, backend: str | None, size: int, cache: str, repeat: int
) -> dict:
    """Measure one case in this process and return its figures."""
    from PIL import Image

    from engine.catalog import Catalog, builtin_catalog
    from engine.progress import Cancelled
    from engine.upscale import UpscalerCache, upscale

    builtin = builtin_catalog(Path(cache))
    model = builtin.upscaler(model_id)
    if backend is not None:
        model = dataclasses.replace(model, backend=backend)
    catalog = Catalog(models=builtin.models, upscalers={model.id: model})
    upscalers = UpscalerCache("cpu", cache_dir=Path(cache), catalog=catalog)
    started = time.perf_counter()
    upscalers.get(model.id)
    load_seconds = time.perf_counter() - started
    image = _photo().resize((size, size), Image.Resampling.BICUBIC)
    upscale(upscalers, image.crop((0, 0, 32, 32)), model.id)  # one-off setup
    best, done, total, started = float("inf"), 0, 0, 0.0

    def count(step: int, steps: int, _preview: object) -> None:
        nonlocal done, total
        done, total = step, steps

    def over_budget() -> bool:
        return time.perf_counter() - started > BUDGET_SECONDS

    # Through the public entry point, so RGB conversion and the final PIL copy
    # count towards peak RSS as they do in the worker.
    spent = 0.0
    for _ in range(repeat):
        if spent > 20:  # a slow case is steady enough from one run
            break
        done = 0
        started = time.perf_counter()
        with contextlib.suppress(Cancelled):
            upscale(upscalers, image, model.id, count, over_budget)
        seconds = time.perf_counter() - started
        spent += seconds
        best = min(best, seconds * total / done)
    return {
        "model": model.id,
        "backend": model.backend,
        "size": size,
        "scale": model.scale,
        "tiles": total,
        "done": done,
        "seconds": best,
        "load_seconds": load_seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _photo():  # noqa: ANN202  # PIL stays a child-only import
    """A real photograph from scikit-image's wheel, read as a file."""
    from PIL import Image

    dist = importlib.metadata.distribution("scikit-image")
    return Image.open(dist.locate_file("skimage/data/coffee.png")).convert("RGB")


def _row(r: dict, note: str = "") -> str:
    out = r["size"] * r["scale"]
    seconds = f"{r['seconds']:.2f}{note}"
    if r["done"] < r["tiles"]:
        seconds = f"{seconds} (est. from {r['done']}/{r['tiles']} tiles)"
    return (
        f"| {r['model']} | {r['backend']} | {r['size']}² → {out}² | {r['tiles']} "
        f"| {seconds} | {r['peak_mb']:.0f} MB |"
    )


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("torch", "ncnn")
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" {versions}; load average {load} at start (machine shared)."
    )


def main() -> None:
    """Run the benchmark, print the rows and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 px cases only")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(*json.loads(args.case))))
        return
    machine = _machine()
    rows = run(quick=args.quick)
    today = datetime.date.today().isoformat()
    section = "\n".join(
        [
            f"## Upscaling, {today}{' (quick)' if args.quick else ''}",
            "",
            f"{machine} Real weights, coffee.png resized; best of 3 where a run"
            " takes under 20 s. seconds = tiling and inference, model loaded;"
            " peak RSS of a fresh process per case (imports included).",
            "",
            HEADER,
            *rows,
        ]
    )
    print(section)
    # Another benchmark may have appended meanwhile: reread, then append only.
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    with RESULTS.open("a", encoding="utf-8") as results:
        if not existing:
            results.write("# Benchmark results\n")
        results.write("\n" + section + "\n")


if __name__ == "__main__":
    main()
