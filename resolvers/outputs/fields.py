"""Root fields of the outputs domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.outputs import mutations as output_mutations
from resolvers.outputs import resolvers as outputs
from resolvers.outputs.payloads import (
    OutputsDeletePayload,
    OutputsSubmitToGalleryPayload,
    OutputsUpdatePayload,
)
from resolvers.outputs.types import OutputConnection
from resolvers.permissions import (
    CanManage,
    CanManageVisibility,
    CanRead,
    IsAuthenticated,
    needs,
)


@strawberry.type(name="OutputsQuery")
class Query:
    outputs: OutputConnection = strawberry.field(
        resolver=outputs.resolve_outputs,
        description=(
            "Your stored images, newest first unless orderBy says otherwise, public and "
            "private alike; deleted ones never appear. With search or similarTo, ranked "
            "by relevance instead, filters applied inside the search. Needs READ."
        ),
        permission_classes=needs(CanRead),
    )


@strawberry.type(name="OutputsMutation")
class Mutation:
    outputs_update: OutputsUpdatePayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_update,
        description=(
            "Favorite or unfavorite outputs (needs READ) and make them public or private "
            "(needs MANAGE). All ids change or none; an unknown or foreign id is NOT_FOUND."
        ),
        permission_classes=[IsAuthenticated, CanRead, CanManageVisibility],
    )
    outputs_submit_to_gallery: OutputsSubmitToGalleryPayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_submit_to_gallery,
        description=(
            "Submit outputs to the public gallery, making them public. All or none. "
            "Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    outputs_delete: OutputsDeletePayload = strawberry.mutation(
        resolver=output_mutations.resolve_outputs_delete,
        description=(
            "Delete outputs and their upscales (no refund); they vanish from every list. "
            "All or none. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
