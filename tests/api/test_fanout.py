"""Compiled subscription selections against graphql-core's execution of them."""

import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import DocumentNode, ExecutionResult, GraphQLObjectType, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.fanout import FanoutExecutor, RawJSON, encode_frame
from api.schema import schema
from core import models
from core.enums import EventType, GalleryStatus, JobSource, JobStatus
from jobs.events import JobEvent
from resolvers.jobs.types import JobUpdate

JOB, USER = uuid.uuid4(), uuid.uuid4()
AT = datetime(2026, 12, 1, 14, 30, 5, 123456, tzinfo=UTC)
EVERY_FIELD = """jobId type status at queuePosition etaSeconds step totalSteps
  percent preview charged refunded error { code message }
  output { index width height seed format isFavorite isPublic galleryStatus
           isUpscaled createdAt jobId
           generation { prompt negativePrompt modelId schedulerId inferenceSteps
                        guidanceScale promptStrength } }"""


def event(type_: EventType, **fields: Any) -> JobEvent:
    status = {
        EventType.QUEUED: JobStatus.QUEUED,
        EventType.SUCCEEDED: JobStatus.SUCCEEDED,
        EventType.FAILED: JobStatus.FAILED,
    }.get(type_, JobStatus.RUNNING)
    return JobEvent(
        job_id=JOB, user_id=USER, type=type_, status=status, at=AT, **fields
    )


def output_row() -> dict[str, Any]:
    row = models.Output(
        job_id=JOB,
        user_id=USER,
        index=1,
        storage_key=f"outputs/{JOB}/1.png",
        format="PNG",
        width=512,
        height=768,
        seed=2**31 - 1,
        prompt='a "quoted" prompt, ünïcode ✓',
        model_id="darkroom-tiny",
        scheduler_id="K_EULER",
        inference_steps=20,
        guidance_scale=7.5,
        source=JobSource.API,
        gallery_status=GalleryStatus.SUBMITTED,
        created_at=AT,
    )
    dumped: dict[str, Any] = row.model_dump(mode="json")
    return dumped


EVENTS = [
    event(EventType.QUEUED, queue_position=3, eta_seconds=12.5),
    event(EventType.STARTED, charged=2),
    event(
        EventType.PROGRESS,
        step=7,
        total_steps=20,
        percent=0.35,
        eta_seconds=4.0,
        preview_png=b"\x89PNG fake",
    ),
    event(EventType.OUTPUT, output=output_row(), step=20),
    event(EventType.SUCCEEDED, percent=1.0, charged=2, refunded=0),
    event(
        EventType.FAILED,
        error_code="ENGINE_ERROR",
        error_message="out of memory: 12 GiB",
        refunded=2,
    ),
]

SELECTIONS = [
    ("subscription { myJobUpdates { " + EVERY_FIELD + " } }", {}),
    ("subscription($id: ID!) { jobUpdates(jobId: $id) { " + EVERY_FIELD + " } }", {}),
    ("subscription { myJobUpdates { type step at } }", {}),
    (
        "subscription { u: myJobUpdates { t: type __typename s: step s2: step "
        "error { __typename c: code } output { __typename w: width } } }",
        {},
    ),
    (
        "subscription { myJobUpdates { ...Parts ... on JobUpdate { percent } "
        "... { charged } } } fragment Parts on JobUpdate { jobId status "
        "output { ...Size } } fragment Size on Output { width height }",
        {},
    ),
    (
        "subscription($withStep: Boolean!, $noAt: Boolean!) { myJobUpdates { type "
        "step @include(if: $withStep) at @skip(if: $noAt) "
        "... on JobUpdate @include(if: $withStep) { totalSteps } "
        "...Money @skip(if: $withStep) } } "
        "fragment Money on JobUpdate { charged refunded }",
        {"withStep": True, "noAt": False},
    ),
    (
        "subscription($withStep: Boolean!, $noAt: Boolean!) { myJobUpdates { type "
        "step @include(if: $withStep) at @skip(if: $noAt) "
        "... on JobUpdate @include(if: $withStep) { totalSteps } "
        "...Money @skip(if: $withStep) } } "
        "fragment Money on JobUpdate { charged refunded }",
        {"withStep": False, "noAt": True},
    ),
    (
        "subscription { myJobUpdates { type step } myJobUpdates { percent } }",
        {},
    ),
]


@functools.cache
def _parse(query: str) -> DocumentNode:
    return parse(query)


def executors(
    query: str, variables: dict[str, Any]
) -> tuple[FanoutExecutor, StrawberryGraphQLCoreExecutionContext]:
    document = _parse(query)  # one document per query, as CachedParsing does
    if "$id" in query:
        variables = {**variables, "id": "Sm9iOjE="}
    built = [
        cls.build(schema._schema, document, None, None, variables)
        for cls in (FanoutExecutor, StrawberryGraphQLCoreExecutionContext)
    ]
    compiled, reference = built
    assert isinstance(compiled, FanoutExecutor), compiled
    assert isinstance(reference, StrawberryGraphQLCoreExecutionContext), reference
    return compiled, reference


def run(executor: Any, update: JobUpdate) -> ExecutionResult:
    result = executor.build_per_event_executor(update).execute_operation(False)
    assert isinstance(result, ExecutionResult)
    return result


@pytest.mark.parametrize(("query", "variables"), SELECTIONS)
def test_a_compiled_selection_writes_what_graphql_core_would(
    query: str, variables: dict[str, Any]
) -> None:
    # given a subscription compiled and the same one executed by graphql-core
    compiled, reference = executors(query, variables)
    for source in EVENTS:
        update = JobUpdate.from_event(source)
        # when each kind of event goes through both
        fast = run(compiled, update)
        slow = run(reference, update)
        # then the compiled JSON is graphql-core's, byte for byte
        assert slow.errors is None
        assert isinstance(fast.data, RawJSON), source.type
        assert fast.data.text == json.dumps(slow.data, separators=(",", ":"))


def test_every_job_update_field_is_compiled() -> None:
    # given every field of JobUpdate in the schema
    job_update = schema._schema.type_map["JobUpdate"]
    assert isinstance(job_update, GraphQLObjectType)
    names = set(job_update.fields)
    # then the selection compared above selects each of them
    selected = {
        word.strip("{}") for word in EVERY_FIELD.split() if word not in ("{", "}")
    }
    assert names <= selected


@pytest.mark.parametrize(
    "selection",
    [
        "output { imageUrl }",  # signed by storage
        "output { id }",  # a relay resolver
        "output { generation { model { name } } }",  # reads the catalog
    ],
)
def test_a_field_with_a_resolver_is_left_to_graphql_core(selection: str) -> None:
    # given a selection reaching a field that needs a resolver
    compiled, _reference = executors(
        "subscription { myJobUpdates { type " + selection + " } }", {}
    )
    progress = JobUpdate.from_event(EVENTS[2])
    output = JobUpdate.from_event(EVENTS[3])
    plan = compiled.build_per_event_executor(progress)._plan
    # then events without that object are still compiled, those with it are not
    assert plan is not None
    assert plan.data(progress) is not None
    assert plan.data(output) is None


def test_a_null_where_the_schema_promises_a_value_gets_graphql_cores_error() -> None:
    # given an update missing a non-null field
    compiled, reference = executors("subscription { myJobUpdates { type at } }", {})
    update = JobUpdate.from_event(EVENTS[0])
    update.at = None  # type: ignore[assignment]  # what a broken event would carry
    # when it is sent
    fast, slow = run(compiled, update), run(reference, update)
    # then graphql-core answered it, with its error
    assert fast.errors is not None
    assert fast.data == slow.data is None
    assert [e.message for e in fast.errors] == [e.message for e in slow.errors or []]


def test_a_value_graphql_core_cannot_serialize_gets_its_error() -> None:
    # given an output whose seed does not fit GraphQL's 32-bit Int
    compiled, reference = executors(
        "subscription { myJobUpdates { type output { seed } } }", {}
    )
    update = JobUpdate.from_event(
        event(EventType.OUTPUT, output={**output_row(), "seed": 2**40})
    )
    # when it is sent
    fast, slow = run(compiled, update), run(reference, update)
    # then graphql-core answered it, with its partial data and error
    assert fast.data == slow.data
    assert [e.message for e in fast.errors or []] == [
        e.message for e in slow.errors or []
    ]
    assert fast.errors


def test_subscribers_with_the_same_selection_share_one_serialization() -> None:
    # given two subscriptions with the same query and variables
    one, _ = executors("subscription { myJobUpdates { type step } }", {})
    two, _ = executors("subscription { myJobUpdates { type step } }", {})
    update = JobUpdate.from_event(EVENTS[2])
    # when the same event reaches both
    first, second = run(one, update).data, run(two, update).data
    # then the JSON was made once
    assert isinstance(first, RawJSON)
    assert first is second


def test_a_frame_with_compiled_data_encodes_as_strawberry_would() -> None:
    data = {"myJobUpdates": {"type": "PROGRESS", "step": 3, "note": "é\u2028"}}
    raw = RawJSON(json.dumps(data, separators=(",", ":")))
    extensions = {"cost": {"requestedQueryCost": 1}}
    for message in (
        {
            "id": 'a"b',
            "type": "next",
            "payload": {"data": data, "extensions": extensions},
        },
        {"type": "data", "id": "1", "payload": {"data": data}},
    ):
        spliced = {**message, "payload": {**message["payload"], "data": raw}}  # type: ignore[dict-item]
        assert encode_frame(spliced) == json.dumps(message, separators=(",", ":"))
