"""Query cost and rate limits: price each operation before it runs, then charge it.

Cost, as Shopify prices it: a field that returns an object costs 1, scalars and
enums are free (they come with their object); a field with `first` or `last`
multiplies its selection's cost by that number, and a connection field without
them by its default page of 50. Fragments are priced as if written out in place
(each one once, then reused) and every branch of an abstract type is counted, so
the cost is an upper bound on the work.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.utilities import get_operation_ast
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode, ServiceError
from core.ratelimit import (
    LimitState,
    Quota,
    RateLimited,
    client_subject,
    create_subject,
    spend_or_raise,
    token_subject,
)
from resolvers.context import Context

DEFAULT_PAGE = 50
# Mutations that queue work get their own per-account rate on top of points.
JOB_CREATING = frozenset({"generationCreate", "upscaleCreate", "imageUpload"})
# Introspection entry points, priced like fields (their types' fields cost 1 each).
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


@dataclass(frozen=True)
class OperationCost:
    """What one operation is priced at, and which job-creating fields it calls."""

    cost: int
    creations: int = 0


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> OperationCost:
    """Price the chosen operation of a validated document."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return OperationCost(0)
    root = schema.get_root_type(operation.operation)
    if root is None:
        return OperationCost(0)
    pricer = _Pricer(schema, document, operation, variables or {})
    cost = pricer.selection_set(operation.selection_set, root)
    creations = 0
    if operation.operation is OperationType.MUTATION:
        fields = pricer.root_fields(operation.selection_set, {}, set())
        creations = sum(1 for name in fields.values() if name in JOB_CREATING)
    return OperationCost(cost, creations)


class _Pricer:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        raw_variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), dict(raw_variables)
        )
        # Bad variables fail execution anyway; price them as absent.
        self.variables = coerced if isinstance(coerced, VariableValues) else None
        # A fragment's price depends only on it and the type it lands on: price it
        # once, or a fragment spreading the next one twice costs 2^n to price.
        self.fragment_costs: dict[tuple[str, str], int] = {}

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType) -> int:
        total = 0
        for selection in node.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (
                    self.schema.get_type(condition.name.value) if condition else parent
                )
                total += self.selection_set(selection.selection_set, target or parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, parent)
        return total

    def fragment(self, name: str, parent: GraphQLNamedType) -> int:
        key = (name, parent.name)
        if key not in self.fragment_costs:
            self.fragment_costs[key] = 0  # a cycle prices as 0; validation refuses it
            fragment = self.fragments.get(name)
            if fragment is not None:
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.fragment_costs[key] = self.selection_set(
                    fragment.selection_set, target or parent
                )
        return self.fragment_costs[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        name = node.name.value
        fields = {**getattr(parent, "fields", {}), **_META_FIELDS}
        definition = fields.get(name)
        if definition is None or node.selection_set is None:
            return 0  # scalars, enums and __typename come with their object
        child_type = get_named_type(definition.type)
        children = self.selection_set(node.selection_set, child_type)
        return 1 + self._multiplier(node, definition, child_type) * children

    def root_fields(
        self, node: SelectionSetNode, found: dict[str, str], seen: set[str]
    ) -> dict[str, str]:
        """Root fields by response key, as graphql-core collects them: the same
        key twice runs once, and each fragment is spread once."""
        for selection in node.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                found.setdefault(key, selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                self.root_fields(selection.selection_set, found, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    self.root_fields(fragment.selection_set, found, seen)
        return found

    def _multiplier(
        self, node: FieldNode, definition: Any, child_type: GraphQLNamedType
    ) -> int:
        try:
            args = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            args = {}
        sizes = [
            int(args[k]) for k in ("first", "last") if isinstance(args.get(k), int)
        ]
        if sizes:
            return max(0, *sizes)
        if child_type.name.endswith("Connection"):
            return DEFAULT_PAGE
        return 1

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)


class QueryTooComplex(ServiceError):  # noqa: N818  # a refusal, like ServiceError
    """The operation's computed cost passes the maximum."""

    def __init__(self, cost: int, max_cost: int) -> None:
        super().__init__(
            ErrorCode.QUERY_TOO_COMPLEX,
            f"query cost {cost} exceeds the maximum of {max_cost}; ask for smaller "
            "pages (first/last) or fewer nested connections",
        )
        self.cost, self.max_cost = cost, max_cost


class QueryCost(SchemaExtension):
    """Refuse operations over the maximum cost or the caller's budget; report both.

    Runs in on_execute, after validation and before any resolver: a refusal becomes
    the operation's only error. Each operation is charged once, here; a
    subscription is charged 1 when it starts, never per event.
    """

    def __init__(self) -> None:
        self.cost: int | None = None
        self.state: LimitState | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        """Price, then charge, before execution starts."""
        ec = self.execution_context
        context = ec.context
        if ec.graphql_document is None or not isinstance(context, Context):
            yield
            return
        priced = operation_cost(
            ec.schema._schema,  # graphql-core's schema, for type lookups
            ec.graphql_document,
            ec.variables,
            ec.operation_name,
        )
        self.cost = priced.cost
        subscribing = ec.operation_type.value == "subscription"
        try:
            await self._check(context, priced, subscribing=subscribing)
        except (QueryTooComplex, RateLimited) as refusal:
            if isinstance(refusal, RateLimited) and isinstance(
                context.response, Response
            ):
                context.response.headers["Retry-After"] = str(refusal.retry_after)
            error = _refusal_error(refusal)
            if subscribing:
                # Strawberry subscribes regardless of a preset result; raising
                # makes the refusal the stream's only message.
                raise error from refusal
            ec.result = ExecutionResult(data=None, errors=[error])
        yield

    async def _check(
        self, context: Context, priced: OperationCost, *, subscribing: bool
    ) -> None:
        settings = context.settings
        if priced.cost > settings.max_query_cost:
            limiter = context.services.rate_limiter
            if limiter is not None:
                self.state = await limiter.peek(*_points_bucket(context))
            raise QueryTooComplex(priced.cost, settings.max_query_cost)
        limiter = context.services.rate_limiter
        if limiter is None:
            return
        caller = context.caller
        if priced.creations and caller is not None:
            await spend_or_raise(
                limiter,
                create_subject(caller.user.id),
                Quota(settings.create_rate_per_minute, 60),
                priced.creations,
                what="job creation",
            )
        spend = 1 if subscribing else max(1, priced.cost)
        subject, quota = _points_bucket(context)
        state = await limiter.spend(subject, quota, spend)
        self.state = context.rate_limit = state
        _set_headers(context, state)
        if not state.allowed:
            raise RateLimited(state, now=limiter.clock(), what="points")

    async def get_results(self) -> dict[str, Any]:
        """extensions.cost on every response (GitHub and Shopify style)."""
        context = self.execution_context.context
        state = self.state
        if state is None and isinstance(context, Context):
            limiter = context.services.rate_limiter
            if limiter is not None:
                state = self.state = await limiter.peek(*_points_bucket(context))
        cost: dict[str, Any] = {"requestedQueryCost": self.cost or 0}
        if state is not None:
            cost["rateLimit"] = {
                "limit": state.limit,
                "remaining": state.remaining,
                "resetAt": state.reset_at.isoformat(),
            }
        return {"cost": cost}


def _points_bucket(context: Context) -> tuple[str, Quota]:
    settings = context.settings
    window = settings.rate_limit_window_seconds
    if context.caller is not None:
        # A console session has its own bucket, as a token does.
        caller = context.caller
        subject = token_subject(caller.token_id or f"session:{caller.session_id}")
        return subject, Quota(settings.rate_limit_points, window)
    client = context.request.client
    address = client.host if client is not None else "unknown"
    return client_subject(address), Quota(settings.anonymous_rate_limit_points, window)


def _set_headers(context: Context, state: LimitState) -> None:
    response = context.response
    if isinstance(response, Response):
        response.headers["X-RateLimit-Limit"] = str(state.limit)
        response.headers["X-RateLimit-Remaining"] = str(state.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(state.reset_at.timestamp()))


def _refusal_error(refusal: QueryTooComplex | RateLimited) -> GraphQLError:
    extensions: dict[str, Any] = {"code": refusal.code.value}
    if isinstance(refusal, QueryTooComplex):
        extensions |= {"cost": refusal.cost, "maxCost": refusal.max_cost}
    else:
        extensions |= {
            "retryAfter": refusal.retry_after,
            "resetAt": refusal.state.reset_at.isoformat(),
        }
    return GraphQLError(refusal.message, original_error=refusal, extensions=extensions)
