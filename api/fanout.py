"""Subscription events serialized once per selection, not executed per subscriber.

graphql-core executes a subscription's selection on every event for every
subscriber; with hundreds following a burst that was most of the API's time.
Here a subscription's selection is compiled, once, into a function that builds
the event's `data` straight from the event's attributes, with the schema's own
scalar and enum serializers, so it is the JSON graphql-core would produce. The
JSON text is kept per event and shared by every subscriber with the same
selection and variables, and spliced into each one's websocket frame.

Only what can be read off the event compiles: fields without resolvers,
arguments or directives other than @skip/@include, aliases, `__typename`,
nested objects, fragments. A selection with anything else runs on graphql-core
as before; so does an event whose object needs a resolver (an OUTPUT's `imageUrl`)
or does not fit its type (a null where the schema promises a value), so errors
come out exactly as they always did.
"""

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    OperationType,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    collect_fields,
    collect_subfields,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

log = logging.getLogger("darkroom.api")

Render = Callable[[Any], Any]
_ALLOWED_DIRECTIVES = {"skip", "include"}
# What Strawberry's encode_json writes; one encoder, not one built per call.
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class RawJSON:
    """A subscription event's `data`, already serialized as JSON text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Uncompilable(Exception):  # noqa: N818  # a signal, not a failure
    """The selection needs graphql-core."""


class _Fallback(Exception):  # noqa: N818  # a signal, not a failure
    """This event needs graphql-core."""


class Plan:
    """A compiled subscription selection and the JSON of its latest events."""

    # Events whose JSON is kept; subscribers of one event come within a burst.
    RECENT = 64

    def __init__(self, key: str, render: Render) -> None:
        self.key, self._render = key, render
        # Keyed by id(): holding the event keeps its id from being reused.
        self._recent: OrderedDict[int, tuple[object, RawJSON | None]] = OrderedDict()

    def data(self, event: object) -> RawJSON | None:
        """The event's `data` as JSON text, or None when graphql-core must run."""
        hit = self._recent.get(id(event))
        if hit is not None and hit[0] is event:
            return hit[1]
        raw: RawJSON | None
        try:
            raw = RawJSON(_dumps({self.key: self._render(event)}))
        except Exception:  # any surprise: graphql-core reports it as it would
            raw = None
        self._recent[id(event)] = (event, raw)
        if len(self._recent) > self.RECENT:
            self._recent.popitem(last=False)
        return raw


class FanoutExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering subscription events from a Plan."""

    _plan: Plan | None = None
    _compiled = False

    def build_per_event_executor(self, payload: Any) -> Any:
        """The usual per-event executor, carrying the subscription's plan."""
        if not self._compiled:
            self._compiled = True
            try:
                self._plan = plan_for(self)
            except Exception:  # never worse than executing every event
                log.exception("could not compile a subscription; executing it")
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, FanoutExecutor):  # a copy of this one
            executor._plan = self._plan
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Serve an event from the plan when it can; otherwise execute as ever."""
        plan = self._plan
        if plan is not None:
            raw = plan.data(self.root_value)
            if raw is not None:
                # RawJSON in place of the dict: api/view.py splices it in.
                return ExecutionResult(data=raw)  # type: ignore[arg-type]
        return super().execute_operation(serially)


class _Plans:
    """Plans by operation and variables, so subscribers share them and their JSON."""

    SIZE = 1024

    def __init__(self) -> None:
        # id() of the operation node: CachedParsing hands out one per query text.
        self._plans: OrderedDict[tuple[int, str], tuple[object, Plan | None]] = (
            OrderedDict()
        )

    def get(self, executor: FanoutExecutor) -> Plan | None:
        try:
            variables = json.dumps(
                executor.variable_values.coerced, sort_keys=True, default=repr
            )
        except (TypeError, ValueError):
            return _compile(executor)
        key = (id(executor.operation), variables)
        hit = self._plans.get(key)
        if hit is not None and hit[0] is executor.operation:
            self._plans.move_to_end(key)
            return hit[1]
        plan = _compile(executor)
        self._plans[key] = (executor.operation, plan)
        if len(self._plans) > self.SIZE:
            self._plans.popitem(last=False)
        return plan


_plans = _Plans()


def plan_for(executor: FanoutExecutor) -> Plan | None:
    """The subscription's plan, shared with its equals; None when it cannot compile."""
    if executor.operation.operation is not OperationType.SUBSCRIPTION:
        return None
    if executor.middleware_manager and executor.middleware_manager.middlewares:
        return None  # middleware wraps every resolver: only graphql-core runs it
    return _plans.get(executor)


def _compile(executor: FanoutExecutor) -> Plan | None:
    schema = executor.schema
    root = schema.subscription_type
    if root is None:
        return None
    collected = collect_fields(
        schema,
        executor.fragments,
        executor.variable_values,
        root,
        executor.operation,
        executor.hide_suggestions,
    )
    groups = collected.grouped_field_set
    if collected.new_defer_usages or len(groups) != 1:
        return None
    ((key, details),) = groups.items()
    try:
        _check(details)
        # Its arguments went to the subscribe resolver; each event is the value.
        field = schema.get_field(root, details[0].node.name.value)
        if field is None:
            return None
        render = _value(executor, field.type, details)
    except _Uncompilable:
        return None
    return Plan(key, render)


def _check(details: list[FieldDetails]) -> None:
    for detail in details:
        if detail.defer_usage is not None or detail.fragment_variable_values:
            raise _Uncompilable
        if any(
            d.name.value not in _ALLOWED_DIRECTIVES
            for d in detail.node.directives or ()
        ):
            raise _Uncompilable


def _value(
    executor: FanoutExecutor, type_: GraphQLOutputType, details: list[FieldDetails]
) -> Render:
    """What a field's value becomes, as graphql-core's complete_value would."""
    non_null = isinstance(type_, GraphQLNonNull)
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        inner = _leaf(named)
    elif isinstance(named, GraphQLObjectType):
        try:
            inner = _object(executor, named, details)
        except _Uncompilable:
            if non_null:
                raise
            inner = _needs_execution
    else:  # lists, interfaces, unions
        raise _Uncompilable

    def value(source: Any) -> Any:
        if source is None:
            if non_null:
                raise _Fallback  # graphql-core's error, not ours
            return None
        return inner(source)

    return value


def _needs_execution(source: Any) -> Any:
    raise _Fallback


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Render:
    serialize = type_.serialize

    def leaf(source: Any) -> Any:
        result = serialize(source)
        if result is None:
            raise _Fallback  # graphql-core reports what could not be serialized
        return result

    return leaf


def _object(
    executor: FanoutExecutor, type_: GraphQLObjectType, details: list[FieldDetails]
) -> Render:
    collected = collect_subfields(
        executor.schema,
        executor.fragments,
        executor.variable_values,
        executor.operation,
        type_,
        details,
        executor.hide_suggestions,
    )
    if collected.new_defer_usages:
        raise _Uncompilable
    fields: list[tuple[str, str, Render]] = []
    for key, group in collected.grouped_field_set.items():
        _check(group)
        node = group[0].node
        name = node.name.value
        if name == "__typename":
            fields.append((key, "", _constant(type_.name)))
            continue
        field = type_.fields.get(name)
        if field is None or node.arguments or field.args:
            raise _Uncompilable
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not _plain(definition):
            raise _Uncompilable  # a resolver may need the context or the database
        fields.append(
            (key, definition.python_name, _value(executor, field.type, group))
        )

    def render(source: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attribute, value in fields:
            out[key] = value(getattr(source, attribute) if attribute else None)
        return out

    return render


def _constant(text: str) -> Render:
    return lambda _source: text


def _plain(definition: object) -> bool:
    """A field read straight off its object: no resolver, permission or extension."""
    return (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and not definition.extensions
    )


def encode_frame(message: Mapping[str, Any]) -> str:
    """A websocket message whose payload's `data` is RawJSON, as encode_json writes it."""
    parts = [
        f'"payload":{encode_result(value)}'
        if key == "payload"
        else f"{_dumps(key)}:{_dumps(value)}"
        for key, value in message.items()
    ]
    return "{" + ",".join(parts) + "}"


def encode_result(response: Mapping[str, Any]) -> str:
    """A GraphQL response whose `data` is RawJSON, as encode_json writes it."""
    parts = [
        f'"data":{item.text}'
        if name == "data" and isinstance(item, RawJSON)
        else f"{_dumps(name)}:{_dumps(item)}"
        for name, item in response.items()
    ]
    return "{" + ",".join(parts) + "}"


def is_raw_result(response: object) -> bool:
    """Whether a response's `data` is RawJSON (an event sent over graphql-sse)."""
    return isinstance(response, dict) and isinstance(response.get("data"), RawJSON)


def is_raw_frame(message: object) -> bool:
    """Whether a message carries a RawJSON `data` that json.dumps cannot write."""
    if not isinstance(message, dict):
        return False
    payload = message.get("payload")
    return isinstance(payload, dict) and isinstance(payload.get("data"), RawJSON)
