from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields, WebhookEndpointFields


class WebhookEndpointDelete(BaseModel):
    webhook_endpoint_delete: "WebhookEndpointDeleteWebhookEndpointDelete" = Field(
        alias="webhookEndpointDelete"
    )


class WebhookEndpointDeleteWebhookEndpointDelete(BaseModel):
    webhook_endpoint: Optional[
        "WebhookEndpointDeleteWebhookEndpointDeleteWebhookEndpoint"
    ] = Field(alias="webhookEndpoint")
    user_errors: list["WebhookEndpointDeleteWebhookEndpointDeleteUserErrors"] = Field(
        alias="userErrors"
    )


WebhookEndpointDeleteWebhookEndpointDeleteWebhookEndpoint = WebhookEndpointFields
WebhookEndpointDeleteWebhookEndpointDeleteUserErrors = UserErrorFields
WebhookEndpointDelete.model_rebuild()
WebhookEndpointDeleteWebhookEndpointDelete.model_rebuild()
