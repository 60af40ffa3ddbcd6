from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import JobFields, UserErrorFields


class Cancel(BaseModel):
    job_cancel: "CancelJobCancel" = Field(alias="jobCancel")


class CancelJobCancel(BaseModel):
    job: Optional["CancelJobCancelJob"]
    user_errors: list["CancelJobCancelUserErrors"] = Field(alias="userErrors")


CancelJobCancelJob = JobFields
CancelJobCancelUserErrors = UserErrorFields
Cancel.model_rebuild()
CancelJobCancel.model_rebuild()
