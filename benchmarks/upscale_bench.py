"""Time the upscalers and their peak memory, each case in a fresh process.

Run ``python benchmarks/upscale_bench.py [--quick] [--threads N]``: it prints
markdown rows and appends them to benchmarks/RESULTS.md under a dated heading.
Peak RSS is the child's own ``ru_maxrss``, so cases never see each other's
memory and other processes on the machine cannot inflate it; wall times on a
shared machine can still be, so the load average is recorded with them. Each
child configures its threads with ``engine.threads`` before importing torch
(one by default); ncnn follows torch's count, so the backends compare fairly.
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
# The same weights on each backend, alternating processes so that load from
# other work on the machine hits all alike; the best run of each counts.
# x4plus takes a minute or more per run, so it gets fewer rounds.
COMPARISONS = {
    "compact": (5, [("torch", None), ("ncnn", None)]),
    "rrdb": (2, [("torch", None), ("torch", "bfloat16"), ("ncnn", None)]),
}

Case = tuple[str, str | None, str | None, int]  # id, backend, dtype, input px


def run(quick: bool = False, threads: int = 1) -> list[str]:
    """Run every case, each in a fresh process, and return markdown table rows."""
    from engine.catalog import builtin_catalog

    upscalers = builtin_catalog(Path(tempfile.gettempdir())).upscalers
    # 256 px inputs run on every backend below; 1 MP shows tiling and memory.
    cases: list[Case] = [] if quick else [(u, None, None, 1024) for u in upscalers]
    with tempfile.TemporaryDirectory() as cache_dir:
        rows = [_row(_in_child(case, cache_dir, quick, threads)) for case in cases]
        for model in upscalers.values():
            rounds, variants = COMPARISONS[model.architecture]
            rounds = 1 if quick else rounds
            best: dict[tuple[str, str | None], dict] = {}
            for _ in range(rounds):
                for backend, dtype in variants:
                    case = (model.id, backend, dtype, 256)
                    r = _in_child(case, cache_dir, quick, threads)
                    key = (backend, dtype)
                    if key not in best or r["seconds"] < best[key]["seconds"]:
                        best[key] = r
            note = "" if quick else f" (best of {rounds}, alternating)"
            rows += [_row(r, note) for r in best.values()]
    return rows


def _in_child(case: Case, cache_dir: str, quick: bool, threads: int) -> dict:
    model_id, backend, dtype, size = case
    repeat = 1 if quick else 3
    args = json.dumps([model_id, backend, dtype, size, cache_dir, repeat, threads])
    done = subprocess.run(
        [sys.executable, __file__, "--case", args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def _case(
    model_id: str,
    backend: str | None,
    dtype: str | None,
    size: int,
    cache: str,
    repeat: int,
    threads: int,
) -> dict:
    """Measure one case in this process and return its figures."""
    from engine.threads import configure_threads

    # Before torch and ncnn load, so that their OpenMP runtimes wait passively.
    configure_threads(threads)

    import torch
    from PIL import Image

    from engine.catalog import Catalog, builtin_catalog
    from engine.progress import Cancelled
    from engine.upscale import UpscalerCache, upscale

    builtin = builtin_catalog(Path(cache))
    model = builtin.upscaler(model_id)
    if backend is not None:
        model = dataclasses.replace(model, backend=backend)
    catalog = Catalog(models=builtin.models, upscalers={model.id: model})
    upscalers = UpscalerCache(
        "cpu",
        cache_dir=Path(cache),
        catalog=catalog,
        dtype=None if dtype is None else getattr(torch, dtype),
    )
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
    backend_label = model.backend  # with the dtype where torch runs it
    if model.backend == "torch":
        backend_label += " " + str(upscalers.dtype).removeprefix("torch.")
    return {
        "model": model.id,
        "backend": backend_label,
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
    parser.add_argument("--quick", action="store_true", help="one round, 256 px only")
    parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads for torch and ncnn"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(*json.loads(args.case))))
        return
    machine = _machine()
    rows = run(quick=args.quick, threads=args.threads)
    today = datetime.date.today().isoformat()
    section = "\n".join(
        [
            f"## Upscaling, {today}{' (quick)' if args.quick else ''}",
            "",
            f"{machine} {args.threads} CPU thread(s) for torch and ncnn. Real"
            " weights, coffee.png resized; best of 3 where a run takes under"
            " 20 s. seconds = tiling and inference, model loaded; peak RSS of a"
            " fresh process per case (imports included).",
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
