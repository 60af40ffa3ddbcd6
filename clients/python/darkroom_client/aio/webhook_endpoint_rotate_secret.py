from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields, WebhookEndpointFields


class WebhookEndpointRotateSecret(BaseModel):
    webhook_endpoint_rotate_secret: "WebhookEndpointRotateSecretWebhookEndpointRotateSecret" = Field(
        alias="webhookEndpointRotateSecret"
    )


class WebhookEndpointRotateSecretWebhookEndpointRotateSecret(BaseModel):
    webhook_endpoint: Optional[
        "WebhookEndpointRotateSecretWebhookEndpointRotateSecretWebhookEndpoint"
    ] = Field(alias="webhookEndpoint")
    secret: Optional[str]
    user_errors: list[
        "WebhookEndpointRotateSecretWebhookEndpointRotateSecretUserErrors"
    ] = Field(alias="userErrors")


WebhookEndpointRotateSecretWebhookEndpointRotateSecretWebhookEndpoint = (
    WebhookEndpointFields
)
WebhookEndpointRotateSecretWebhookEndpointRotateSecretUserErrors = UserErrorFields
WebhookEndpointRotateSecret.model_rebuild()
WebhookEndpointRotateSecretWebhookEndpointRotateSecret.model_rebuild()
