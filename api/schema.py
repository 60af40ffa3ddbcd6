"""Build the Schema: every domain's root fields (resolvers/<domain>/fields.py),
merged into Query, Mutation and Subscription, with the protective extensions."""

import strawberry
from strawberry.extensions import MaxTokensLimiter

from api.caches import CachedParsing, CachedValidation
from api.cost import QueryCost
from api.errors import ErrorCodes, QuietSchema
from api.fanout import FanoutExecutor
from api.metrics import OperationTiming
from api.shape import ShapeLimits
from api.text_input import TextInputRules
from resolvers import nodes
from resolvers.accounts import fields as accounts
from resolvers.catalog import fields as catalog
from resolvers.gallery import fields as gallery
from resolvers.jobs import fields as jobs
from resolvers.outputs import fields as outputs
from resolvers.usage import fields as usage
from resolvers.webhooks import fields as webhooks


def merged(name: str, description: str, *parts: type) -> type:
    """One root type holding the parts' fields, in the parts' order (as
    strawberry.tools.merge_types, which takes no description)."""
    return strawberry.type(type(name, parts, {}), description=description)


Query = merged(
    "Query",
    "Read the caller's account, tokens and catalog.",
    accounts.Query,
    catalog.Query,
    outputs.Query,
    nodes.Query,
    usage.Query,
    gallery.Query,
    jobs.Query,
    webhooks.Query,
)
Mutation = merged(
    "Mutation",
    "Change things; refusals come back as userErrors.",
    accounts.Mutation,
    outputs.Mutation,
    gallery.Mutation,
    jobs.Mutation,
    webhooks.Mutation,
)
Subscription = merged(
    "Subscription",
    "Live streams over graphql-transport-ws (or graphql-ws), graphql-sse or multipart HTTP.",
    jobs.Subscription,
)


def build_schema(*, debug: bool = False) -> QuietSchema:
    """The schema with its protective extensions; `debug` unmasks unexpected errors."""
    return QuietSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Subscription events from compiled selections, not per-subscriber execution.
        execution_context_class=FanoutExecutor,
        # Factories, so each request gets fresh extension state.
        extensions=[
            OperationTiming,  # first: its time spans every other extension's work
            lambda: MaxTokensLimiter(max_token_count=2000),
            CachedParsing,
            # Depth, aliases and expanded size, before validation walks anything.
            ShapeLimits,
            QueryCost,  # prices and charges before execution; refusals get codes below
            lambda: ErrorCodes(debug=debug),
            # Its check runs before validation whatever its place here, so before
            # pricing and charging too.
            TextInputRules,
            CachedValidation,  # last: it validates only what the checks above let by
        ],
    )


schema = build_schema()
