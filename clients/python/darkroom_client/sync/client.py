from datetime import datetime
from typing import Any, Optional, Union

from .api_token_create import ApiTokenCreate
from .api_token_revoke import ApiTokenRevoke
from .api_tokens import ApiTokens
from .base_client import BaseClient
from .base_model import UNSET, UnsetType, Upload
from .cancel import Cancel
from .generate import Generate
from .image_upload import ImageUpload
from .input_types import (
    ApiTokenCreateInput,
    GenerationCreateInput,
    JobWhere,
    OutputOrderBy,
    OutputWhere,
    UpscaleCreateInput,
    UsageWhere,
)
from .job import Job
from .jobs import Jobs
from .me import Me
from .models import Models
from .outputs import Outputs
from .upscale import Upscale
from .usage import Usage
from .usage_totals import UsageTotals


def gql(q: str) -> str:
    return q


class Client(BaseClient):
    def me(self, **kwargs: Any) -> Me:
        query = gql("""
            query Me {
              me {
                email
                tier
                parallelLimit
                createdAt
                tokenScopes
                credits {
                  total
                  rows {
                    type
                    remaining
                    expiresAt
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = self.execute(
            query=query, operation_name="Me", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Me.model_validate(data)

    def models(self, **kwargs: Any) -> Models:
        query = gql("""
            query Models {
              models {
                id
                modelId
                name
                description
                isDefault
                family
                defaultWidth
                defaultHeight
                defaultSteps
                minWidth
                maxWidth
                minHeight
                maxHeight
                sizeMultiple
                minSteps
                maxSteps
                schedulers {
                  schedulerId
                  name
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = self.execute(
            query=query, operation_name="Models", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Models.model_validate(data)

    def generate(
        self,
        input: GenerationCreateInput,
        wait: Union[Optional[int], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Generate:
        query = gql("""
            mutation Generate($input: GenerationCreateInput!, $wait: Int) {
              generationCreate(input: $input, wait: $wait) {
                job {
                  ...JobFields
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment JobFields on Job {
              id
              kind
              status
              modelId
              prompt
              negativePrompt
              width
              height
              numOutputs
              inferenceSteps
              guidanceScale
              schedulerId
              seed
              step
              totalSteps
              progress
              cost
              refunded
              error {
                code
                message
              }
              createdAt
              startedAt
              finishedAt
              queuePosition
              etaSeconds
              outputs {
                ...OutputFields
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"input": input, "wait": wait}
        response = self.execute(
            query=query, operation_name="Generate", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Generate.model_validate(data)

    def upscale(
        self,
        input: UpscaleCreateInput,
        wait: Union[Optional[int], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Upscale:
        query = gql("""
            mutation Upscale($input: UpscaleCreateInput!, $wait: Int) {
              upscaleCreate(input: $input, wait: $wait) {
                job {
                  ...JobFields
                }
                reused
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment JobFields on Job {
              id
              kind
              status
              modelId
              prompt
              negativePrompt
              width
              height
              numOutputs
              inferenceSteps
              guidanceScale
              schedulerId
              seed
              step
              totalSteps
              progress
              cost
              refunded
              error {
                code
                message
              }
              createdAt
              startedAt
              finishedAt
              queuePosition
              etaSeconds
              outputs {
                ...OutputFields
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"input": input, "wait": wait}
        response = self.execute(
            query=query, operation_name="Upscale", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Upscale.model_validate(data)

    def cancel(self, id: str, **kwargs: Any) -> Cancel:
        query = gql("""
            mutation Cancel($id: ID!) {
              jobCancel(id: $id) {
                job {
                  ...JobFields
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment JobFields on Job {
              id
              kind
              status
              modelId
              prompt
              negativePrompt
              width
              height
              numOutputs
              inferenceSteps
              guidanceScale
              schedulerId
              seed
              step
              totalSteps
              progress
              cost
              refunded
              error {
                code
                message
              }
              createdAt
              startedAt
              finishedAt
              queuePosition
              etaSeconds
              outputs {
                ...OutputFields
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = self.execute(
            query=query, operation_name="Cancel", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Cancel.model_validate(data)

    def job(self, id: str, **kwargs: Any) -> Job:
        query = gql("""
            query Job($id: ID!) {
              job(id: $id) {
                ...JobFields
              }
            }

            fragment JobFields on Job {
              id
              kind
              status
              modelId
              prompt
              negativePrompt
              width
              height
              numOutputs
              inferenceSteps
              guidanceScale
              schedulerId
              seed
              step
              totalSteps
              progress
              cost
              refunded
              error {
                code
                message
              }
              createdAt
              startedAt
              finishedAt
              queuePosition
              etaSeconds
              outputs {
                ...OutputFields
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = self.execute(
            query=query, operation_name="Job", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Job.model_validate(data)

    def jobs(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[JobWhere], UnsetType] = UNSET,
        with_total_count: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Jobs:
        query = gql("""
            query Jobs($first: Int, $after: String, $last: Int, $before: String, $where: JobWhere, $withTotalCount: Boolean = false) {
              jobs(first: $first, after: $after, last: $last, before: $before, where: $where) {
                totalCount @include(if: $withTotalCount)
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  node {
                    ...JobFields
                  }
                }
              }
            }

            fragment JobFields on Job {
              id
              kind
              status
              modelId
              prompt
              negativePrompt
              width
              height
              numOutputs
              inferenceSteps
              guidanceScale
              schedulerId
              seed
              step
              totalSteps
              progress
              cost
              refunded
              error {
                code
                message
              }
              createdAt
              startedAt
              finishedAt
              queuePosition
              etaSeconds
              outputs {
                ...OutputFields
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              hasPreviousPage
              startCursor
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "last": last,
            "before": before,
            "where": where,
            "withTotalCount": with_total_count,
        }
        response = self.execute(
            query=query, operation_name="Jobs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Jobs.model_validate(data)

    def outputs(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[OutputWhere], UnsetType] = UNSET,
        order_by: Union[Optional[list[OutputOrderBy]], UnsetType] = UNSET,
        with_total_count: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Outputs:
        query = gql("""
            query Outputs($first: Int, $after: String, $last: Int, $before: String, $where: OutputWhere, $orderBy: [OutputOrderBy!], $withTotalCount: Boolean = false) {
              outputs(
                first: $first
                after: $after
                last: $last
                before: $before
                where: $where
                orderBy: $orderBy
              ) {
                totalCount @include(if: $withTotalCount)
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  node {
                    ...OutputFields
                  }
                }
              }
            }

            fragment OutputFields on Output {
              id
              jobId
              index
              width
              height
              seed
              format
              isFavorite
              isPublic
              isUpscaled
              createdAt
              imageUrl
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              hasPreviousPage
              startCursor
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "last": last,
            "before": before,
            "where": where,
            "orderBy": order_by,
            "withTotalCount": with_total_count,
        }
        response = self.execute(
            query=query, operation_name="Outputs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Outputs.model_validate(data)

    def api_tokens(self, **kwargs: Any) -> ApiTokens:
        query = gql("""
            query ApiTokens {
              apiTokens {
                ...ApiTokenFields
              }
            }

            fragment ApiTokenFields on ApiToken {
              id
              name
              preview
              scopes
              isActive
              createdAt
              revokedAt
              lastUsedAt
              uses
              creditsSpent
            }
            """)
        variables: dict[str, object] = {}
        response = self.execute(
            query=query, operation_name="ApiTokens", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokens.model_validate(data)

    def api_token_create(
        self, input: ApiTokenCreateInput, **kwargs: Any
    ) -> ApiTokenCreate:
        query = gql("""
            mutation ApiTokenCreate($input: ApiTokenCreateInput!) {
              apiTokenCreate(input: $input) {
                apiToken {
                  ...ApiTokenFields
                }
                secret
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment ApiTokenFields on ApiToken {
              id
              name
              preview
              scopes
              isActive
              createdAt
              revokedAt
              lastUsedAt
              uses
              creditsSpent
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = self.execute(
            query=query, operation_name="ApiTokenCreate", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokenCreate.model_validate(data)

    def api_token_revoke(self, id: str, **kwargs: Any) -> ApiTokenRevoke:
        query = gql("""
            mutation ApiTokenRevoke($id: ID!) {
              apiTokenRevoke(id: $id) {
                apiToken {
                  ...ApiTokenFields
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment ApiTokenFields on ApiToken {
              id
              name
              preview
              scopes
              isActive
              createdAt
              revokedAt
              lastUsedAt
              uses
              creditsSpent
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = self.execute(
            query=query, operation_name="ApiTokenRevoke", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokenRevoke.model_validate(data)

    def image_upload(self, file: Upload, **kwargs: Any) -> ImageUpload:
        query = gql("""
            mutation ImageUpload($file: Upload!) {
              imageUpload(file: $file) {
                upload {
                  id
                  format
                  width
                  height
                  sizeBytes
                  createdAt
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment UserErrorFields on UserError {
              field
              code
              message
            }
            """)
        variables: dict[str, object] = {"file": file}
        response = self.execute(
            query=query, operation_name="ImageUpload", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ImageUpload.model_validate(data)

    def usage(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[UsageWhere], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Usage:
        query = gql("""
            query Usage($first: Int, $after: String, $last: Int, $before: String, $where: UsageWhere) {
              usage(first: $first, after: $after, last: $last, before: $before, where: $where) {
                totalCount
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  node {
                    kind
                    jobId
                    status
                    source
                    tokenId
                    tokenPreview
                    charged
                    refunded
                    net
                    createdAt
                    finishedAt
                  }
                }
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              hasPreviousPage
              startCursor
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "first": first,
            "after": after,
            "last": last,
            "before": before,
            "where": where,
        }
        response = self.execute(
            query=query, operation_name="Usage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Usage.model_validate(data)

    def usage_totals(
        self, since: Union[Optional[datetime], UnsetType] = UNSET, **kwargs: Any
    ) -> UsageTotals:
        query = gql("""
            query UsageTotals($since: DateTime) {
              me {
                usageSummary(since: $since) {
                  source
                  kind
                  jobs
                  charged
                  refunded
                  net
                }
              }
            }
            """)
        variables: dict[str, object] = {"since": since}
        response = self.execute(
            query=query, operation_name="UsageTotals", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return UsageTotals.model_validate(data)
