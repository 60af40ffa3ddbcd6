"""Measure the default job through `darkroom serve`, alone and beside busy loops.

Starts `darkroom serve` as a subprocess on a fresh data folder and a free port
(the embedded setup: SQLite, jobs in process), and runs the README's
`darkroom generate` job end to end through the bundled client, as that command
does: generationCreate with the prompt and the defaults (2 images; the tiny
model's 256 px and 20 steps), the live watch until the end, both images
downloaded. One server per row of torch threads (the automatic default, then
every usable core), each measured for:

(a) start-up, on the fresh folder (the tiny model is built and the upscaler
    converted on the way) and again on a restart: process start to /healthz
    answering, and the first job, sent as soon as the server answers while
    its engine still warms up in the background (mutation to images saved);
(b) N rounds of three jobs: alone, beside one `while True: pass` process
    (another program taking a core), and beside one such process per usable
    core (a machine with every core taken), alternated so that drifting load
    from other users of the machine hits each alike; medians and the ratios
    to alone (goal <= 2); and the answer time of a query sent every 0.1 s
    during the jobs alone.

    .venv/bin/python benchmarks/serve.py            # 7 rounds
    .venv/bin/python benchmarks/serve.py --quick    # 3 rounds
"""

import argparse
import contextlib
import datetime
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.machine import machine, usable_cores  # noqa: E402
from darkroom_client import connect  # noqa: E402
from darkroom_client.sync.enums import JobUpdateType  # noqa: E402
from darkroom_client.sync.input_types import GenerationCreateInput  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PROMPT = "a red fox in the snow"  # the README's `darkroom generate` example
GOAL_RATIO = 2.0
HOG = "while True: pass"
ME = {"query": "{ me { email } }"}


@dataclass
class Client:
    """Where a started server answers, and the token it printed."""

    url: str
    token: str


@dataclass
class Server:
    """`darkroom serve` in a subprocess, its output collected by a thread."""

    data_dir: Path
    threads: int
    port: int = 0
    lines: list[str] = field(default_factory=list)
    proc: "subprocess.Popen[str] | None" = None

    def start(self, token: str | None = None) -> tuple[Client, float]:
        """Start it; return a client and the seconds until /healthz answered.

        A first start prints the local account's token; pass it on a restart.
        """
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DARKROOM_DATA_DIR": str(self.data_dir),
            "DARKROOM_TORCH_THREADS": str(self.threads),
            "DARKROOM_CREATE_RATE_PER_MINUTE": "100000",
        }
        for name in ("DARKROOM_DATABASE_URL", "DARKROOM_REDIS_URL"):
            env.pop(name, None)
        started = time.perf_counter()
        darkroom = str(Path(sys.executable).parent / "darkroom")
        self.proc = subprocess.Popen(
            [darkroom, "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        token = token or self._wait_for(self._token, 180)
        self._wait_for(self._healthy, 180)
        ready = time.perf_counter() - started
        return Client(f"http://127.0.0.1:{self.port}/graphql", token), ready

    def warm_up_seconds(self) -> float | None:
        """What the server logged for its background warm-up."""
        for line in self.lines:
            found = re.search(r"engine ready in ([\d.]+) s", line)
            if found:
                return float(found.group(1))
        return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def _drain(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def _token(self) -> str | None:
        return next((x.strip() for x in self.lines if x.startswith("drk_")), None)

    def _healthy(self) -> bool:
        try:
            httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
        except httpx.TransportError:
            return False
        return True

    def _wait_for(self, ready: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = ready()
            if value:
                return value
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("darkroom serve did not come up:\n" + "".join(self.lines))


def default_job(client: Client, out_dir: Path) -> float:
    """`darkroom generate PROMPT` with its defaults: seconds to both images saved."""
    started = time.perf_counter()
    with connect.client(client.url, client.token, source="CLI") as api:
        job = api.generate(input=GenerationCreateInput(prompt=PROMPT))
        job_id = (job.generation_create.job or _refused(job)).id
        for update in connect.watch_job(client.url, client.token, job_id):
            if update.type_ in (JobUpdateType.FAILED, JobUpdateType.CANCELLED):
                raise RuntimeError(f"job ended {update.type_.value}: {update}")
        outputs = api.job(id=job_id).job.outputs
    if len(outputs) != 2:
        raise RuntimeError(f"expected 2 images, got {len(outputs)}")
    for output in outputs:
        image = httpx.get(output.image_url, timeout=60)
        image.raise_for_status()
        (out_dir / f"{output.index}.png").write_bytes(image.content)
    return time.perf_counter() - started


def _refused(job: object) -> Any:
    raise RuntimeError(f"generationCreate refused: {job}")


@contextlib.contextmanager
def probing(client: Client, seconds: list[float]) -> Iterator[None]:
    """Send `{ me { email } }` every 0.1 s meanwhile; collect each answer's time."""
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {client.token}"}) as http:
            while not done.is_set():
                sent = time.perf_counter()
                http.post(client.url, json=ME, timeout=30).raise_for_status()
                seconds.append(time.perf_counter() - sent)
                done.wait(0.1)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        yield
    finally:
        done.set()
        prober.join(30)


@contextlib.contextmanager
def busy_loops(count: int) -> Iterator[None]:
    """`count` processes spinning in pure Python, stopped on the way out."""
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(count)]
    try:
        if hogs:
            time.sleep(0.2)  # let them reach their loop
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@dataclass
class Start:
    """One start of the server, in seconds."""

    ready: float
    warm_up: float | None
    first: float


@dataclass
class Row:
    """One torch thread count's figures, in seconds."""

    threads: int
    fresh: Start
    restart: Start
    times: dict[int, list[float]]  # busy loops beside the job: job times
    queries: list[float]  # answer times of queries sent during jobs alone


def start(
    server: Server, out_dir: Path, token: str | None = None
) -> tuple[Client, Start]:
    """Start the server and send the default job as soon as it answers."""
    client, ready = server.start(token)
    first = default_job(client, out_dir)
    return client, Start(ready, server.warm_up_seconds(), first)


def measure(threads: int, rounds: int, loads: list[int], tmp: Path) -> Row:
    """Start, restart, then rounds of one job per load."""
    data, out_dir = tmp / f"data-{threads}", tmp / "images"
    out_dir.mkdir(exist_ok=True)
    server = Server(data, threads)
    try:
        client, fresh = start(server, out_dir)
    finally:
        server.stop()
    server = Server(data, threads)
    times: dict[int, list[float]] = {hogs: [] for hogs in loads}
    queries: list[float] = []
    try:
        client, restart = start(server, out_dir, client.token)
        for _ in range(rounds):
            for hogs in loads:
                # Queries during the jobs alone: what the engine's threads
                # leave to the server's own event loop.
                probe = probing(client, queries if not hogs else [])
                with busy_loops(hogs), probe:
                    times[hogs].append(default_job(client, out_dir))
    finally:
        server.stop()
    return Row(threads, fresh, restart, times, queries)


def render(rows: list[Row], where: str, args: argparse.Namespace) -> str:
    """The figures as a dated Markdown section."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    busy = [hogs for hogs in args.loads if hogs]
    lines = [
        f"### serve.py{' --quick' if args.quick else ''}, {now}",
        "",
        f"{where}. `darkroom serve` on a fresh data folder (SQLite, jobs in"
        " process); the default job of `darkroom generate` (2 images, tiny model,"
        " 256 px, 20 steps) through the bundled client: mutation, live watch,"
        " both images downloaded. Ready = process start to /healthz answering;"
        " first job = sent as soon as it answers, while the engine warms up in"
        " the background (warm-up as the server logged it); fresh = first start"
        " (builds the tiny model, converts the upscaler), restart = the same"
        f" folder again. Then {args.rounds} rounds of one job alone and one"
        " beside each number of `while True: pass` processes, alternated; a"
        " `{ me { email } }` query every 0.1 s during the jobs alone shows how"
        " the server answers while the engine computes.",
        "",
        "| torch threads | fresh: ready / warm-up / first job s"
        " | restart: ready / warm-up / first job s | alone median s (min-max) | "
        + " | ".join(f"{n} busy loop(s): median s, ratio" for n in busy)
        + f" | ratios <= {GOAL_RATIO:g} | query during a job p50 / p95 ms |",
        "|---|---|---|---|" + "---|" * len(busy) + "---|---|",
    ]
    for row in rows:
        alone = statistics.median(row.times[0])
        ratios = [statistics.median(row.times[n]) / alone for n in busy]
        cells = [
            f"{statistics.median(row.times[n]):.2f}, x{r:.2f}"
            for n, r in zip(busy, ratios, strict=True)
        ]
        default = " (default)" if row.threads == args.default else ""
        lines.append(
            f"| {row.threads}{default} | {_start(row.fresh)} | {_start(row.restart)}"
            f" | {alone:.2f} ({min(row.times[0]):.2f}-{max(row.times[0]):.2f}) | "
            + " | ".join(cells)
            + f" | {'PASS' if max(ratios) <= GOAL_RATIO else 'MISS'}"
            f" | {_pct(row.queries, 50):.0f} / {_pct(row.queries, 95):.0f} |"
        )
    return "\n".join(lines) + "\n"


def _pct(seconds: list[float], q: int) -> float:
    """The q-th percentile in ms (nearest rank)."""
    ordered = sorted(seconds) or [float("nan")]
    return 1000 * ordered[min(len(ordered) - 1, round(q / 100 * len(ordered)))]


def _start(s: Start) -> str:
    warm = "-" if s.warm_up is None else f"{s.warm_up:.1f}"
    return f"{s.ready:.1f} / {warm} / {s.first:.2f}"


def main() -> None:
    """Run the benchmark, print the table and append it to RESULTS.md."""
    from engine.threads import default_threads

    cores = usable_cores()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--rounds", type=int, help="rounds (default 7)")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="*",
        help="torch thread counts to compare (default: every usable core, and"
        " one core fewer)",
    )
    parser.add_argument(
        "--no-append", action="store_true", help="print only; leave RESULTS.md"
    )
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.default = default_threads(cores)
    args.loads = sorted({0, 1, cores})
    where = machine()
    tmp = Path(tempfile.mkdtemp(prefix="darkroom-serve-"))
    rows = []
    try:
        for threads in args.threads or sorted({args.default, max(1, cores - 1), cores}):
            print(f"{threads} torch thread(s): {args.rounds} rounds ...", flush=True)
            rows.append(measure(threads, args.rounds, args.loads, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    section = render(rows, where, args)
    print()
    print(section)
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write("\n" + section)


if __name__ == "__main__":
    main()
