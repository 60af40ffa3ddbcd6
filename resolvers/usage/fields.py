"""Root fields of the usage domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.permissions import (
    CanRead,
    needs,
)
from resolvers.usage import resolvers as usage
from resolvers.usage.types import UsageEntry
from schema.paging import Connection


@strawberry.type(name="UsageQuery")
class Query:
    usage: Connection[UsageEntry] = strawberry.field(
        resolver=usage.resolve_usage,
        description=(
            "Your jobs, newest first, with credits charged and refunded; failed and "
            "cancelled ones included. Needs READ."
        ),
        permission_classes=needs(CanRead),
    )
