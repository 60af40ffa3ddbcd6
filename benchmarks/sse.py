"""Delivery lag of job events over graphql-sse next to graphql-transport-ws.

Serves `build_app` on the embedded default (SQLite, in-process runner, the tiny
model) with uvicorn in a child process. This process opens one websocket
(graphql-transport-ws) and one graphql-sse stream (an httpx POST with
`Accept: text/event-stream`), both following `myJobUpdates`, before it submits
jobs one after another; every event of every job reaches both. lag = receive
time here - the event's `at`, set by the server just before publishing, so both
transports are measured on the same events in the same run.

    .venv/bin/python benchmarks/sse.py            # 10 jobs of 20 steps
    .venv/bin/python benchmarks/sse.py --quick    # 3 jobs of 10 steps
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.typing import Subprotocol  # noqa: E402

from benchmarks.machine import machine  # noqa: E402
from core.settings import Settings  # noqa: E402
from darkroom.first_start import local_access, prepare_embedded  # noqa: E402
from darkroom.services import build_app  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
FOLLOW = "subscription { myJobUpdates { jobId type at } }"
CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id } userErrors { message } }
}"""
Sample = tuple[str, str, float]  # job id, event type, lag in ms


def settings_for(data_dir: Path, port: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url="",
        redis_url="",
        public_base_url=f"http://127.0.0.1:{port}",
    )


def serve(data_dir: str, port: int) -> None:
    """The child: uvicorn on the embedded default."""
    app = build_app(settings_for(Path(data_dir), port))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def lag_ms(update: dict[str, str], received: float) -> float:
    return (received - datetime.datetime.fromisoformat(update["at"]).timestamp()) * 1e3


async def over_websocket(
    url: str, token: str, ready: asyncio.Event
) -> AsyncIterator[Sample]:
    async with connect(
        url.replace("http", "ws", 1),
        subprotocols=[Subprotocol("graphql-transport-ws")],
        ping_interval=None,
    ) as ws:
        auth = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": FOLLOW}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        ready.set()
        async for raw in ws:
            received = time.time()
            message = json.loads(raw)
            if message["type"] == "next":
                update = message["payload"]["data"]["myJobUpdates"]
                yield update["jobId"], update["type"], lag_ms(update, received)


async def over_sse(
    client: httpx.AsyncClient, url: str, token: str, ready: asyncio.Event
) -> AsyncIterator[Sample]:
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
    async with client.stream(
        "POST", url, json={"query": FOLLOW}, headers=headers, timeout=None
    ) as response:
        assert response.status_code == 200, await response.aread()
        ready.set()
        async for line in response.aiter_lines():
            received = time.time()
            if line.startswith("data: {"):
                update = json.loads(line[6:])["data"]["myJobUpdates"]
                yield update["jobId"], update["type"], lag_ms(update, received)


async def collect(
    samples: AsyncIterator[Sample], into: list[Sample], ended: dict[str, asyncio.Event]
) -> None:
    async for job_id, kind, lag in samples:
        into.append((job_id, kind, lag))
        if kind == "SUCCEEDED":
            ended.setdefault(job_id, asyncio.Event()).set()


async def run(url: str, token: str, jobs: int, steps: int) -> dict[str, list[Sample]]:
    got: dict[str, list[Sample]] = {"websocket": [], "sse": []}
    ended: dict[str, dict[str, asyncio.Event]] = {"websocket": {}, "sse": {}}
    async with httpx.AsyncClient() as client:
        ws_ready, sse_ready = asyncio.Event(), asyncio.Event()
        tasks = [
            asyncio.create_task(
                collect(
                    over_websocket(url, token, ws_ready),
                    got["websocket"],
                    ended["websocket"],
                )
            ),
            asyncio.create_task(
                collect(
                    over_sse(client, url, token, sse_ready), got["sse"], ended["sse"]
                )
            ),
        ]
        await asyncio.wait_for(asyncio.gather(ws_ready.wait(), sse_ready.wait()), 60)
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(jobs):
            variables = {
                "input": {
                    "prompt": "a lighthouse",
                    "width": 64,
                    "height": 64,
                    "numOutputs": 1,
                    "inferenceSteps": steps,
                }
            }
            response = await client.post(
                url, json={"query": CREATE, "variables": variables}, headers=auth
            )
            job_id = response.json()["data"]["generationCreate"]["job"]["id"]
            for transport in ("websocket", "sse"):
                event = ended[transport].setdefault(job_id, asyncio.Event())
                await asyncio.wait_for(event.wait(), 120)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return got


def render(got: dict[str, list[Sample]], jobs: int, steps: int) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## SSE vs websocket: job event delivery lag ({now})",
        "",
        f"`benchmarks/sse.py` on {machine()}. Embedded default (SQLite, in-process "
        f"runner, tiny model), uvicorn in a child process; {jobs} jobs of {steps} "
        "steps one after another, every event of each followed at once over one "
        "graphql-transport-ws websocket and one graphql-sse stream (`myJobUpdates`, "
        "both open before the first job). lag = receive time in the client - the "
        "event's `at`, set just before publish.",
        "",
        "| transport | events | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for transport, samples in got.items():
        lags = [lag for _, _, lag in samples]
        lines.append(
            f"| {transport} | {len(lags)} | {pct(lags, 50):.2f} | {pct(lags, 95):.2f}"
            f" | {max(lags):.2f} |"
        )
    same = [(j, k) for j, k, _ in got["websocket"]] == [
        (j, k) for j, k, _ in got["sse"]
    ]
    lines += [
        "",
        f"Same events in the same order on both: {'yes' if same else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the comparison, print the table and append it to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 jobs of 10 steps")
    parser.add_argument("--no-append", action="store_true", help="leave RESULTS.md")
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    jobs, steps = (3, 10) if args.quick else (10, 20)
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        settings = settings_for(Path(tmp), port)
        prepare_embedded(settings)
        token = asyncio.run(local_access(settings)).secret
        assert token is not None
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", tmp, str(port)], cwd=ROOT
        )
        try:
            url = f"http://127.0.0.1:{port}/graphql"
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.1)
            got = asyncio.run(run(url, token, jobs, steps))
        finally:
            child.terminate()
            child.wait(30)
    report = render(got, jobs, steps)
    print(report)
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write("\n" + report)


if __name__ == "__main__":
    main()
