from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import WebhookDeliveryStatus, WebhookEvent
from .fragments import PageInfoFields


class WebhookDeliveries(BaseModel):
    webhook_deliveries: "WebhookDeliveriesWebhookDeliveries" = Field(
        alias="webhookDeliveries"
    )


class WebhookDeliveriesWebhookDeliveries(BaseModel):
    page_info: "WebhookDeliveriesWebhookDeliveriesPageInfo" = Field(alias="pageInfo")
    edges: list["WebhookDeliveriesWebhookDeliveriesEdges"]


WebhookDeliveriesWebhookDeliveriesPageInfo = PageInfoFields


class WebhookDeliveriesWebhookDeliveriesEdges(BaseModel):
    cursor: str
    node: "WebhookDeliveriesWebhookDeliveriesEdgesNode"


class WebhookDeliveriesWebhookDeliveriesEdgesNode(BaseModel):
    id: str
    message_id: str = Field(alias="messageId")
    endpoint_id: Optional[str] = Field(alias="endpointId")
    job_id: str = Field(alias="jobId")
    event: WebhookEvent
    status: WebhookDeliveryStatus
    attempts: int
    max_attempts: int = Field(alias="maxAttempts")
    response_code: Optional[int] = Field(alias="responseCode")
    last_error: Optional[str] = Field(alias="lastError")
    next_attempt_at: Optional[datetime] = Field(alias="nextAttemptAt")
    last_attempt_at: Optional[datetime] = Field(alias="lastAttemptAt")
    created_at: datetime = Field(alias="createdAt")


WebhookDeliveries.model_rebuild()
WebhookDeliveriesWebhookDeliveries.model_rebuild()
WebhookDeliveriesWebhookDeliveriesEdges.model_rebuild()
