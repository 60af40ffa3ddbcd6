"""Shape limits and pricing stay linear: exploding fragments are refused at once."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from graphql import get_introspection_query, parse

from api.cost import operation_cost
from api.schema import schema
from api.shape import MAX_REPEATS, measure, problems
from core.settings import Settings
from tests.conftest import Api
from tests.darkroom.test_serve import free_port

SCHEMA = schema._schema


def fragment_bomb(levels: int, leaf: str = "rateLimit { limit }") -> str:
    """`query{...F0}` where each fragment spreads the next one twice."""
    parts = ["query { ...F0 }"]
    for i in range(levels):
        parts.append(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}")
    parts.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "\n".join(parts)


@pytest.mark.timeout(10)
def test_a_fragment_bomb_is_measured_and_priced_in_linear_time() -> None:
    # given 200 levels of fragments, each spreading the next twice (2^200 fields)
    document = parse(fragment_bomb(200))
    # when it is measured and priced (each fragment once)
    shape = measure(document)
    cost = operation_cost(SCHEMA, document).cost
    # then both see the whole expansion, without walking it
    assert shape.fields == 2**201
    assert cost == 2**200
    assert any("expands to" in p for p in problems(shape))


def test_the_introspection_query_graphiql_sends_fits_every_limit() -> None:
    shape = measure(parse(get_introspection_query(descriptions=True)))
    assert list(problems(shape)) == []


def test_depth_aliases_and_repeats_are_counted_through_fragments() -> None:
    # given a fragment nested 13 objects deep and spread with aliases
    deep = "a: me { b: apiTokens { id } }"
    document = parse(
        "query { ...Deep x: rateLimit { limit } }\n"
        "fragment Deep on Query { " + deep + " }"
    )
    shape = measure(document)
    # then the depth is the nesting of object fields, and every alias counts
    assert (shape.depth, shape.aliases, shape.fields) == (2, 3, 5)
    # and one response key asked for over and over is refused
    many = "query { " + " ".join(["models { id }"] * (MAX_REPEATS + 1)) + " }"
    assert any("`models`" in p for p in problems(measure(parse(many))))


def test_root_fields_run_once_per_response_key() -> None:
    # given generationCreate spread twice through one fragment, and once aliased
    document = parse(
        'mutation { ...M ...M again: generationCreate(input: {prompt: "x"}) '
        "{ job { id } } }\n"
        'fragment M on Mutation { generationCreate(input: {prompt: "x"}) '
        "{ job { id } } }"
    )
    # then two jobs would be created (graphql-core merges the repeated key)
    assert operation_cost(SCHEMA, document).creations == 2


@pytest.mark.timeout(30)
@pytest.mark.parametrize("api", ["sqlite"], indirect=True)
def test_a_fragment_bomb_is_refused_with_a_code_and_not_charged(api: Api) -> None:
    # given an anonymous client
    # when it sends a 40-level fragment bomb
    started = time.monotonic()
    body = api.post(fragment_bomb(40))
    # then it is refused before validation with a code
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "expands to" in error["message"]
    assert time.monotonic() - started < 10
    # and the budget was not touched
    assert body["extensions"]["cost"]["rateLimit"]["remaining"] == 1000


@pytest.fixture
def live_server(tmp_path: Path, sqlite_database_url: str) -> Iterator[str]:
    """The app under uvicorn on a free port, in this process: one event loop."""
    from darkroom.services import build_app

    settings = Settings(data_dir=tmp_path / "data", database_url=sqlite_database_url)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.timeout(60)
def test_healthz_answers_while_fragment_bombs_arrive(live_server: str) -> None:
    # given clients sending 40-level fragment bombs over and over
    stop = threading.Event()
    refused: list[int] = []

    def attack() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/graphql", json={"query": fragment_bomb(40)})
                refused.append(response.status_code)

    attackers = [threading.Thread(target=attack) for _ in range(2)]
    for thread in attackers:
        thread.start()
    try:
        # when /healthz is asked meanwhile (generously timed: the attackers share
        # this process's GIL and a busy CI machine; a bomb that is walked blocks
        # the event loop for minutes, not seconds)
        with httpx.Client(base_url=live_server, timeout=10) as client:
            answers = [client.get("/healthz").status_code for _ in range(10)]
    finally:
        # ten quick answers can come before any bomb's: let one be refused
        deadline = time.monotonic() + 30
        while not refused and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in attackers:
            thread.join(timeout=30)
    # then it answered every time, and every bomb was refused
    assert answers == [200] * 10
    assert refused
    assert set(refused) == {200}
