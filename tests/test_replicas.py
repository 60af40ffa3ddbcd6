"""Replicas for real: two `darkroom serve` and two `darkroom worker` processes on
one PostgreSQL and one Redis, each client talking to either API."""

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from redis import Redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core.accounts import create_user
from core.credits import FreeCreditPolicy, balance
from core.db import Database
from core.enums import Scope, Tier
from core.settings import Settings
from core.tokens import create_token
from tests.conftest import REDIS_URL, empty_database
from tests.darkroom.test_serve import free_port

pytestmark = pytest.mark.slow

CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input) { job { id status } userErrors { code message } } }"""
SMALL = {"prompt": "a red fox", "width": 64, "height": 64, "inferenceSteps": 3}
MINE = "subscription { myJobUpdates { jobId type status step } }"
CREATES_PER_MINUTE = 8


@dataclass
class Fleet:
    """Two API processes and two workers on one database and Redis."""

    apis: list[str]  # base URLs
    settings: Settings
    processes: list[subprocess.Popen[bytes]]
    logs: Path

    def account(
        self, email: str, *, tier: Tier = Tier.PRO, credits: int = 100
    ) -> tuple[uuid.UUID, str]:
        """A new account and a token secret with every scope but METRICS."""

        async def work() -> tuple[uuid.UUID, str]:
            db = Database(self.settings.database_url)
            try:
                async with db.session() as session:
                    user = await create_user(
                        session,
                        email=email,
                        tier=tier,
                        credits=credits,
                        policy=FreeCreditPolicy.from_settings(self.settings),
                    )
                    scopes = (Scope.GENERATE, Scope.READ, Scope.MANAGE)
                    _token, secret = await create_token(
                        session, user_id=user.id, scopes=scopes
                    )
                return user.id, secret
            finally:
                await db.dispose()

        return asyncio.run(work())

    def post(self, api: int, token: str, query: str, **variables: object) -> dict:
        response = httpx.post(
            f"{self.apis[api]}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        return dict(response.json())

    def socket(self, api: int, token: str, query: str) -> ClientConnection:
        """A graphql-transport-ws connection running `query`, acknowledged."""
        url = self.apis[api].replace("http://", "ws://") + "/graphql"
        socket = connect(url, subprotocols=["graphql-transport-ws"])
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {token}"},
        }
        socket.send(json.dumps(init))
        assert json.loads(socket.recv(10))["type"] == "connection_ack"
        socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
        )
        return socket

    def db_read(self, sql: str, **params: object) -> list[tuple]:
        async def work() -> list[tuple]:
            db = Database(self.settings.database_url)
            try:
                async with db.session() as session:
                    return [
                        tuple(r) for r in await session.execute(sa.text(sql), params)
                    ]
            finally:
                await db.dispose()

        return asyncio.run(work())


def _env(settings: Settings, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "DARKROOM_DATA_DIR": str(settings.data_dir),
        "DARKROOM_DATABASE_URL": settings.database_url,
        "DARKROOM_REDIS_URL": settings.redis_url,
        "DARKROOM_STORAGE_URL": str(settings.data_dir / "files"),
        "DARKROOM_REVOCATION_CHECK_SECONDS": "1",
        "DARKROOM_CREATE_RATE_PER_MINUTE": str(CREATES_PER_MINUTE),
        "DARKROOM_BATCH_MAX_IMAGES": "1",
        **more,
    }


@pytest.fixture(scope="module")
def fleet(
    postgresql_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    empty_database(postgresql_database_url)
    redis = Redis.from_url(REDIS_URL)
    try:
        redis.flushdb()
    finally:
        redis.close()
    tmp = tmp_path_factory.mktemp("fleet")
    settings = Settings(
        data_dir=tmp / "data", database_url=postgresql_database_url, redis_url=REDIS_URL
    )
    darkroom = str(Path(sys.executable).parent / "darkroom")
    processes, apis = [], []
    # Both APIs start at once on an empty database: one makes the local account.
    fleet = Fleet(apis, settings, processes, tmp)
    try:
        for i in range(2):
            port = free_port()
            apis.append(f"http://127.0.0.1:{port}")
            with open(tmp / f"api{i}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [darkroom, "serve", "--port", str(port)],
                        env=_env(settings),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for i in range(2):
            with open(tmp / f"worker{i}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [darkroom, "worker"],
                        env=_env(settings),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        _wait_ready(fleet)
        yield fleet
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(fleet: Fleet) -> None:
    """Until both APIs answer /readyz 200 (which needs a worker's heartbeat)."""
    deadline = time.monotonic() + 180
    for url in fleet.apis:
        while True:
            assert time.monotonic() < deadline, _logs(fleet)
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    # Both workers loaded and polling: two live rows.
    while len(fleet.db_read("SELECT id FROM workers")) < 2:
        assert time.monotonic() < deadline, _logs(fleet)
        time.sleep(0.5)


def _logs(fleet: Fleet) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text()[-3000:]}"
        for p in sorted(fleet.logs.glob("*.log"))
    )


def _updates(socket: ClientConnection, until: str, timeout: float = 60) -> list[dict]:
    """Job updates from a socket until one of type `until`."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1]["type"] != until:
        message = json.loads(socket.recv(max(0.1, deadline - time.monotonic())))
        if message["type"] == "next":
            seen.append(message["payload"]["data"]["myJobUpdates"])
    return seen


def test_a_subscriber_on_either_api_gets_every_event_of_a_job_submitted_on_one(
    fleet: Fleet,
):
    # given an account followed on both APIs
    _user, token = fleet.account("follower@example.com")
    on_a, on_b = fleet.socket(0, token, MINE), fleet.socket(1, token, MINE)
    time.sleep(0.5)  # both subscriptions live
    # when a job is submitted on the first
    created = fleet.post(0, token, CREATE, input=SMALL)["data"]["generationCreate"]
    assert created["userErrors"] == []
    # then each follower sees the same events, QUEUED to SUCCEEDED, in order
    a, b = _updates(on_a, "SUCCEEDED"), _updates(on_b, "SUCCEEDED")
    kinds = [u["type"] for u in b if u["type"] != "PROGRESS"]
    assert kinds[0] == "QUEUED"
    assert kinds[-3:] == ["STARTED", "OUTPUT", "SUCCEEDED"] or kinds[-2:] == [
        "OUTPUT",
        "SUCCEEDED",
    ]
    assert "STARTED" in kinds
    assert [u["type"] for u in a if u["type"] != "PROGRESS"] == kinds
    steps = [u["step"] for u in b if u["type"] == "PROGRESS"]
    assert steps == sorted(steps)
    assert steps[-1] == SMALL["inferenceSteps"]
    for socket in (on_a, on_b):
        socket.close()


def test_a_token_revoked_on_one_api_is_refused_and_its_sockets_closed_on_both(
    fleet: Fleet,
):
    # given an account's second token, used on both APIs, sockets open on both
    _user, manager = fleet.account("revoker@example.com")
    made = fleet.post(
        0,
        manager,
        """mutation { apiTokenCreate(input: {name: "victim", scopes: [READ, GENERATE]})
        { apiToken { id } secret } }""",
    )["data"]["apiTokenCreate"]
    victim, victim_id = made["secret"], made["apiToken"]["id"]
    me = "{ me { email } }"
    for api in (0, 1):
        assert fleet.post(api, victim, me)["data"]["me"]["email"]
    sockets = [fleet.socket(api, victim, MINE) for api in (0, 1)]
    # when it is revoked on the first
    revoked = fleet.post(
        0,
        manager,
        "mutation($id: ID!) { apiTokenRevoke(id: $id) { userErrors { code } } }",
        id=victim_id,
    )
    assert revoked["data"]["apiTokenRevoke"]["userErrors"] == []
    revoked_at = time.monotonic()
    # then both close its sockets with 4403 within a few seconds
    assert [_close_code(socket) for socket in sockets] == [4403, 4403]
    assert time.monotonic() - revoked_at < 5
    # and both refuse it within the same few seconds (each caches a caller for
    # up to DARKROOM_REVOCATION_CHECK_SECONDS)
    for api in (0, 1):
        while "errors" not in (answer := fleet.post(api, victim, me)):
            assert time.monotonic() - revoked_at < 5, answer
            time.sleep(0.1)
        assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_submission_rate_limit_holds_across_both_apis(fleet: Fleet):
    # given an account allowed CREATES_PER_MINUTE submissions a minute
    _user, token = fleet.account("hasty@example.com", credits=1000)
    # when it submits two more than that, alternating between the APIs
    codes = []
    for i in range(CREATES_PER_MINUTE + 2):
        answer = fleet.post(i % 2, token, CREATE, input=SMALL)
        errors = answer.get("errors") or []
        payload = (answer.get("data") or {}).get("generationCreate") or {}
        user_errors = payload.get("userErrors") or []
        codes.append(
            errors[0]["extensions"]["code"]
            if errors
            else (user_errors[0]["code"] if user_errors else "OK")
        )
    # then exactly the limit went through, counted across both
    assert codes[:CREATES_PER_MINUTE] == ["OK"] * CREATES_PER_MINUTE
    assert codes[CREATES_PER_MINUTE:] == ["RATE_LIMITED"] * 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_parallel_limit_holds_across_both_apis_under_racing_submissions(
    fleet: Fleet, seed: int
):
    # given a STARTER account (2 jobs at once) and 7 submissions racing, each to
    # an API picked at random, all at once
    user_id, token = fleet.account(f"racer{seed}@example.com", tier=Tier.STARTER)
    picks = random.Random(seed).choices([0, 1], k=7)
    with ThreadPoolExecutor(len(picks)) as pool:
        answers = list(
            pool.map(lambda api: fleet.post(api, token, CREATE, input=SMALL), picks)
        )
        # then while they run, never more than 2 are dispatched and unfinished
        peak = 0
        deadline = time.monotonic() + 120
        while True:
            rows = fleet.db_read(
                "SELECT status, enqueued_at IS NOT NULL FROM jobs WHERE user_id = :u",
                u=user_id,
            )
            live = [
                s for s, dispatched in rows if dispatched and s in ("QUEUED", "RUNNING")
            ]
            peak = max(peak, len(live))
            if rows and all(s in ("SUCCEEDED", "FAILED", "CANCELLED") for s, _ in rows):
                break
            assert time.monotonic() < deadline, _logs(fleet)
            time.sleep(0.05)
    assert all(a["data"]["generationCreate"]["userErrors"] == [] for a in answers)
    assert peak <= 2
    statuses = sorted(s for s, _ in rows)
    assert statuses == ["SUCCEEDED"] * 7
    # and each was charged once
    cost = fleet.db_read(
        "SELECT sum(cost) - sum(refunded) FROM jobs WHERE user_id = :u", u=user_id
    )
    assert cost[0][0] == 7 * _one_cost(fleet)
    assert _balance(fleet, user_id) == 100 - cost[0][0]


def _close_code(socket: ClientConnection) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            socket.recv(10)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


def _one_cost(fleet: Fleet) -> int:
    rows = fleet.db_read("SELECT cost FROM jobs ORDER BY created_at DESC LIMIT 1")
    return int(rows[0][0])


def _balance(fleet: Fleet, user_id: uuid.UUID) -> int:
    async def work() -> int:
        db = Database(fleet.settings.database_url)
        try:
            async with db.session() as session:
                return await balance(session, user_id=user_id)
        finally:
            await db.dispose()

    return asyncio.run(work())
