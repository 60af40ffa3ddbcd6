"""Measure engine overhead and batching gain on the tiny model; append to RESULTS.md.

Run `python benchmarks/engine.py` (or `--quick`). CPU times of the random tiny
model say nothing about real models; the ratios are what this reports:
(a) generate() with progress and previews against a bare diffusers call,
(b) four compatible requests batched against run one by one,
(c) the upscaler's own benchmark when `benchmarks/upscale_bench.py` exists,
(d) bfloat16 against float32 on CPU, which picks the catalog's CPU dtype.
"""

import argparse
import dataclasses
import datetime
import importlib.util
import inspect
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402  # after the offline switch

from engine.catalog import Catalog, builtin_catalog  # noqa: E402
from engine.generate import generate, generate_batch  # noqa: E402
from engine.pipelines import LoadedPipeline, PipelineCache, pick_device  # noqa: E402
from engine.progress import StepHook, StepListener  # noqa: E402
from engine.requests import GenerationRequest, resolve_request  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PROMPT = "a photo of a red house in a forest at sunset"


def timed(run: Callable[[], object]) -> float:
    """Return the wall time of one call in seconds."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def machine() -> str:
    """Describe the CPU, core count and load for the results line."""
    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        names = [
            ln.split(":", 1)[1].strip()
            for ln in lscpu.splitlines()
            if ln.startswith("Model name")
        ]
        model = names[0] if names else model
    except OSError:
        pass
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, load {load:.1f}, {platform.system()}"


def overhead(
    pipes: PipelineCache, catalog: Catalog, size: int, steps: int, pairs: int
) -> list[str]:
    """(a) generate() with progress and previews every step vs a bare pipeline call."""
    model = catalog.default_model()
    request = GenerationRequest(
        model.id,
        PROMPT,
        width=size,
        height=size,
        inference_steps=steps,
        seed=1,
        preview_every=1,
    )
    seen: list[int] = []
    loaded = pipes.get(model)
    pipe = loaded.text2img

    def engine() -> None:
        generate(
            pipes,
            resolve_request(catalog, request),
            on_step=lambda s, t, p: seen.append(s),
        )

    def bare() -> None:
        # Under inference_mode as generate() runs, so the ratio isolates the
        # engine's own work: validation, scheduler swap, step hook, previews.
        with torch.inference_mode():
            pipe(
                PROMPT,
                width=size,
                height=size,
                num_inference_steps=steps,
                guidance_scale=model.default_guidance,
                generator=[torch.Generator("cpu").manual_seed(1)],
            )

    engine(), bare()  # warm-up
    ratios, engine_s, bare_s = [], [], []
    for i in range(pairs):
        # Alternate the order so drift in machine load hits both sides alike.
        if i % 2:
            b, e = timed(bare), timed(engine)
        else:
            e, b = timed(engine), timed(bare)
        ratios.append(e / b)
        engine_s.append(e)
        bare_s.append(b)
    own_ms = engine_work(loaded, catalog, request, steps) * 1000
    ratio = statistics.median(ratios)
    best = min(engine_s) / min(bare_s)
    return [
        f"(a) overhead, {size} px, {steps} steps, {str(loaded.dtype)[6:]},"
        f" {pairs} interleaved pairs: generate() with progress + preview every step"
        f" {statistics.median(engine_s):.3f} s vs bare pipeline"
        f" {statistics.median(bare_s):.3f} s; median ratio {ratio:.3f}"
        f" (goal <= 1.03: {'met' if ratio <= 1.03 else 'NOT met'}),"
        f" ratio of best runs {best:.3f}; the engine's own work (validation,"
        f" scheduler swap, {steps} hook calls with previews) measured alone:"
        f" {own_ms:.2f} ms per request, {own_ms / 10 / min(bare_s):.3f}% of the call",
    ]


def engine_work(
    loaded: LoadedPipeline, catalog: Catalog, request: GenerationRequest, steps: int
) -> float:
    """Time what generate() adds around the pipeline, without the pipeline's noise."""
    pipe = loaded.text2img
    resolved = resolve_request(catalog, request)
    latents = torch.randn(1, 4, resolved.height // 8, resolved.width // 8)
    pipe._num_timesteps = steps  # what the pipeline sets before its loop

    def once() -> None:
        resolved = resolve_request(catalog, request)
        with loaded.scheduler(pipe, resolved.scheduler_id):
            listener = StepListener(slice(0, 1), lambda s, t, p: None, None, 1)
            hook = StepHook([listener], steps, resolved.model.family)
            for i in range(steps):
                hook(pipe, i, None, {"latents": latents})

    once()
    return statistics.median(timed(once) for _ in range(20))


def batching(
    pipes: PipelineCache, catalog: Catalog, size: int, steps: int, rounds: int
) -> list[str]:
    """(b) four compatible requests in one call vs one after another."""
    model = catalog.default_model()
    requests = [
        GenerationRequest(
            model.id,
            f"{PROMPT} {i}",
            width=size,
            height=size,
            inference_steps=steps,
            seed=i,
        )
        for i in range(4)
    ]
    generate_batch(
        pipes, [resolve_request(catalog, r) for r in requests[:1]]
    )  # warm-up
    batched, sequential = [], []
    for _ in range(rounds):
        batched.append(
            timed(
                lambda: generate_batch(
                    pipes, [resolve_request(catalog, r) for r in requests]
                )
            )
        )
        sequential.append(
            timed(
                lambda: [generate(pipes, resolve_request(catalog, r)) for r in requests]
            )
        )
    b, s = statistics.median(batched), statistics.median(sequential)
    return [
        f"(b) batching, 4 requests, {size} px, {steps} steps, {rounds} rounds"
        f" ({str(pipes.get(model).dtype)[6:]}): batched"
        f" {4 / b:.2f} images/s vs sequential {4 / s:.2f} images/s; gain x{s / b:.2f}"
    ]


def dtypes(catalog: Catalog, size: int, steps: int, rounds: int) -> list[str]:
    """(d) bfloat16 vs float32 on CPU for the tiny model."""
    base = catalog.default_model()
    times: dict[str, float] = {}
    for dtype in ("float32", "bfloat16"):
        # Default arguments bind this iteration's values into the lambda.
        model = dataclasses.replace(
            base, dtypes=MappingProxyType({**base.dtypes, "cpu": dtype})
        )
        one = Catalog(
            models=MappingProxyType({model.id: model}), upscalers=catalog.upscalers
        )
        pipes = PipelineCache("cpu", max_loaded=1)
        request = GenerationRequest(
            model.id, PROMPT, width=size, height=size, inference_steps=steps, seed=1
        )
        resolved = resolve_request(one, request)
        generate(pipes, resolved)  # warm-up
        times[dtype] = statistics.median(
            timed(lambda p=pipes, r=resolved: generate(p, r)) for _ in range(rounds)
        )
    faster = min(times, key=lambda k: times[k])
    return [
        f"(d) CPU dtype, tiny model, {size} px, {steps} steps: float32 {times['float32']:.3f} s,"
        f" bfloat16 {times['bfloat16']:.3f} s; faster: {faster}"
    ]


def upscaler(quick: bool) -> list[str]:
    """(c) the upscaler benchmark's lines, when that module exists."""
    path = ROOT / "benchmarks" / "upscale_bench.py"
    if not path.exists():
        return ["(c) upscaling: benchmarks/upscale_bench.py not present"]
    spec = importlib.util.spec_from_file_location("upscale_bench", path)
    if spec is None or spec.loader is None:
        return ["(c) upscaling: cannot import benchmarks/upscale_bench.py"]
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        run = module.run
        takes_quick = "quick" in inspect.signature(run).parameters
        rows: list[str] = run(quick=quick) if takes_quick else run()
    except Exception as err:  # another engineer's module: report it, keep going
        return [
            f"(c) upscaling: upscale_bench.run() failed: {type(err).__name__}: {err}"
        ]
    header = getattr(module, "HEADER", "")
    return ["(c) upscaling (benchmarks/upscale_bench.py):", *header.splitlines(), *rows]


def main() -> None:
    """Run the benchmarks, print them and append them to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="128 px, 8 steps, fewer runs"
    )
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a shared box more threads"
        " made timings swing by 4x from OpenMP spin-waiting)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size, steps, pairs, rounds = (128, 8, 3, 1) if args.quick else (512, 20, 7, 2)
    device = pick_device()
    header = (
        f"### engine.py{' --quick' if args.quick else ''},"
        f" {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"{machine()}; torch {torch.__version__}, {torch.get_num_threads()} threads; device {device}\n"
    )
    print(header)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        catalog = builtin_catalog(Path(tmp))
        pipes = PipelineCache(device, max_loaded=1)
        for part in (
            lambda: overhead(pipes, catalog, size, steps, pairs),
            lambda: batching(pipes, catalog, size, steps, rounds),
            lambda: upscaler(args.quick),
            lambda: dtypes(catalog, size, steps, rounds + 1),
        ):
            for line in part():
                print(line, flush=True)
                lines.append(line)
    if not args.no_save:
        with RESULTS.open("a", encoding="utf-8") as out:
            # Markdown table rows from (c) stay rows; everything else is a bullet.
            body, in_table = "", False
            for line in lines:
                row = line.startswith("|")
                if row != in_table:  # a table needs blank lines around it
                    body += "\n"
                body += f"{line}\n" if row else f"- {line}\n"
                in_table = row
            out.write(f"\n{header}\n{body}")


if __name__ == "__main__":
    main()
