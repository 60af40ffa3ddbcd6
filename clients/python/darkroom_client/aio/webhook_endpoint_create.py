from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields, WebhookEndpointFields


class WebhookEndpointCreate(BaseModel):
    webhook_endpoint_create: "WebhookEndpointCreateWebhookEndpointCreate" = Field(
        alias="webhookEndpointCreate"
    )


class WebhookEndpointCreateWebhookEndpointCreate(BaseModel):
    webhook_endpoint: Optional[
        "WebhookEndpointCreateWebhookEndpointCreateWebhookEndpoint"
    ] = Field(alias="webhookEndpoint")
    secret: Optional[str]
    user_errors: list["WebhookEndpointCreateWebhookEndpointCreateUserErrors"] = Field(
        alias="userErrors"
    )


WebhookEndpointCreateWebhookEndpointCreateWebhookEndpoint = WebhookEndpointFields
WebhookEndpointCreateWebhookEndpointCreateUserErrors = UserErrorFields
WebhookEndpointCreate.model_rebuild()
WebhookEndpointCreateWebhookEndpointCreate.model_rebuild()
