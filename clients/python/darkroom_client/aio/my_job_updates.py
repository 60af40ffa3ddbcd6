from pydantic import Field

from .base_model import BaseModel
from .fragments import JobUpdateFields


class MyJobUpdates(BaseModel):
    my_job_updates: "MyJobUpdatesMyJobUpdates" = Field(alias="myJobUpdates")


MyJobUpdatesMyJobUpdates = JobUpdateFields
MyJobUpdates.model_rebuild()
