from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Optional, Union

from .api_token_create import ApiTokenCreate
from .api_token_revoke import ApiTokenRevoke
from .api_tokens import ApiTokens
from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType, Upload
from .cancel import Cancel
from .gallery import Gallery
from .generate import Generate
from .image_upload import ImageUpload
from .input_types import (
    ApiTokenCreateInput,
    GalleryWhere,
    GenerationCreateInput,
    JobWhere,
    OutputOrderBy,
    OutputWhere,
    UpscaleCreateInput,
    UsageWhere,
    WebhookDeliveryWhere,
    WebhookEndpointCreateInput,
)
from .job import Job
from .job_updates import JobUpdates
from .jobs import Jobs
from .me import Me
from .models import Models
from .my_job_updates import MyJobUpdates
from .node import Node
from .outputs import Outputs
from .search_outputs import SearchOutputs
from .upscale import Upscale
from .usage import Usage
from .usage_totals import UsageTotals
from .webhook_deliveries import WebhookDeliveries
from .webhook_endpoint_create import WebhookEndpointCreate
from .webhook_endpoint_delete import WebhookEndpointDelete
from .webhook_endpoint_rotate_secret import WebhookEndpointRotateSecret
from .webhook_endpoints import WebhookEndpoints


def gql(q: str) -> str:
    return q


class AsyncClient(AsyncBaseClient):
    async def me(self, **kwargs: Any) -> Me:
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
        response = await self.execute(
            query=query, operation_name="Me", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Me.model_validate(data)

    async def models(self, **kwargs: Any) -> Models:
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
        response = await self.execute(
            query=query, operation_name="Models", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Models.model_validate(data)

    async def gallery(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[GalleryWhere], UnsetType] = UNSET,
        search: Union[Optional[str], UnsetType] = UNSET,
        similar_to: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> Gallery:
        query = gql("""
            query Gallery($first: Int, $after: String, $last: Int, $before: String, $where: GalleryWhere, $search: String, $similarTo: ID) {
              gallery(
                first: $first
                after: $after
                last: $last
                before: $before
                where: $where
                search: $search
                similarTo: $similarTo
              ) {
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  score
                  node {
                    id
                    width
                    height
                    format
                    seed
                    createdAt
                    url
                    author {
                      handle
                    }
                    generation {
                      prompt
                      negativePrompt
                      modelId
                    }
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
            "search": search,
            "similarTo": similar_to,
        }
        response = await self.execute(
            query=query, operation_name="Gallery", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Gallery.model_validate(data)

    async def generate(
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
        response = await self.execute(
            query=query, operation_name="Generate", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Generate.model_validate(data)

    async def upscale(
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
        response = await self.execute(
            query=query, operation_name="Upscale", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Upscale.model_validate(data)

    async def cancel(self, id: str, **kwargs: Any) -> Cancel:
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
        response = await self.execute(
            query=query, operation_name="Cancel", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Cancel.model_validate(data)

    async def job(self, id: str, **kwargs: Any) -> Job:
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
        response = await self.execute(
            query=query, operation_name="Job", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Job.model_validate(data)

    async def jobs(
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
        response = await self.execute(
            query=query, operation_name="Jobs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Jobs.model_validate(data)

    async def outputs(
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
        response = await self.execute(
            query=query, operation_name="Outputs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Outputs.model_validate(data)

    async def search_outputs(
        self,
        search: Union[Optional[str], UnsetType] = UNSET,
        similar_to: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[OutputWhere], UnsetType] = UNSET,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        with_total_count: Union[Optional[bool], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> SearchOutputs:
        query = gql("""
            query SearchOutputs($search: String, $similarTo: ID, $where: OutputWhere, $first: Int, $after: String, $withTotalCount: Boolean = false) {
              outputs(
                search: $search
                similarTo: $similarTo
                where: $where
                first: $first
                after: $after
              ) {
                totalCount @include(if: $withTotalCount)
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  score
                  node {
                    ...OutputFields
                    generation {
                      prompt
                    }
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
            "search": search,
            "similarTo": similar_to,
            "where": where,
            "first": first,
            "after": after,
            "withTotalCount": with_total_count,
        }
        response = await self.execute(
            query=query, operation_name="SearchOutputs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SearchOutputs.model_validate(data)

    async def node(self, id: str, **kwargs: Any) -> Node:
        query = gql("""
            query Node($id: ID!) {
              node(id: $id) {
                __typename
                id
                ... on Output {
                  imageUrl
                }
                ... on Job {
                  status
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Node", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Node.model_validate(data)

    async def api_tokens(self, **kwargs: Any) -> ApiTokens:
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
        response = await self.execute(
            query=query, operation_name="ApiTokens", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokens.model_validate(data)

    async def api_token_create(
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
        response = await self.execute(
            query=query, operation_name="ApiTokenCreate", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokenCreate.model_validate(data)

    async def api_token_revoke(self, id: str, **kwargs: Any) -> ApiTokenRevoke:
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
        response = await self.execute(
            query=query, operation_name="ApiTokenRevoke", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApiTokenRevoke.model_validate(data)

    async def image_upload(self, file: Upload, **kwargs: Any) -> ImageUpload:
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
        response = await self.execute(
            query=query, operation_name="ImageUpload", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ImageUpload.model_validate(data)

    async def usage(
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
        response = await self.execute(
            query=query, operation_name="Usage", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Usage.model_validate(data)

    async def usage_totals(
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
        response = await self.execute(
            query=query, operation_name="UsageTotals", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return UsageTotals.model_validate(data)

    async def webhook_endpoints(self, **kwargs: Any) -> WebhookEndpoints:
        query = gql("""
            query WebhookEndpoints {
              webhookEndpoints {
                ...WebhookEndpointFields
              }
            }

            fragment WebhookEndpointFields on WebhookEndpoint {
              id
              url
              events
              isActive
              createdAt
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query,
            operation_name="WebhookEndpoints",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return WebhookEndpoints.model_validate(data)

    async def webhook_endpoint_create(
        self, input: WebhookEndpointCreateInput, **kwargs: Any
    ) -> WebhookEndpointCreate:
        query = gql("""
            mutation WebhookEndpointCreate($input: WebhookEndpointCreateInput!) {
              webhookEndpointCreate(input: $input) {
                webhookEndpoint {
                  ...WebhookEndpointFields
                }
                secret
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

            fragment WebhookEndpointFields on WebhookEndpoint {
              id
              url
              events
              isActive
              createdAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="WebhookEndpointCreate",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return WebhookEndpointCreate.model_validate(data)

    async def webhook_endpoint_rotate_secret(
        self, id: str, **kwargs: Any
    ) -> WebhookEndpointRotateSecret:
        query = gql("""
            mutation WebhookEndpointRotateSecret($id: ID!) {
              webhookEndpointRotateSecret(id: $id) {
                webhookEndpoint {
                  ...WebhookEndpointFields
                }
                secret
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

            fragment WebhookEndpointFields on WebhookEndpoint {
              id
              url
              events
              isActive
              createdAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="WebhookEndpointRotateSecret",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return WebhookEndpointRotateSecret.model_validate(data)

    async def webhook_endpoint_delete(
        self, id: str, **kwargs: Any
    ) -> WebhookEndpointDelete:
        query = gql("""
            mutation WebhookEndpointDelete($id: ID!) {
              webhookEndpointDelete(id: $id) {
                webhookEndpoint {
                  ...WebhookEndpointFields
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

            fragment WebhookEndpointFields on WebhookEndpoint {
              id
              url
              events
              isActive
              createdAt
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="WebhookEndpointDelete",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return WebhookEndpointDelete.model_validate(data)

    async def webhook_deliveries(
        self,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        last: Union[Optional[int], UnsetType] = UNSET,
        before: Union[Optional[str], UnsetType] = UNSET,
        where: Union[Optional[WebhookDeliveryWhere], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> WebhookDeliveries:
        query = gql("""
            query WebhookDeliveries($first: Int, $after: String, $last: Int, $before: String, $where: WebhookDeliveryWhere) {
              webhookDeliveries(
                first: $first
                after: $after
                last: $last
                before: $before
                where: $where
              ) {
                pageInfo {
                  ...PageInfoFields
                }
                edges {
                  cursor
                  node {
                    id
                    messageId
                    endpointId
                    jobId
                    event
                    status
                    attempts
                    maxAttempts
                    responseCode
                    lastError
                    nextAttemptAt
                    lastAttemptAt
                    createdAt
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
        response = await self.execute(
            query=query,
            operation_name="WebhookDeliveries",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return WebhookDeliveries.model_validate(data)

    async def job_updates(
        self, job_id: str, **kwargs: Any
    ) -> AsyncIterator[JobUpdates]:
        query = gql("""
            subscription JobUpdates($jobId: ID!) {
              jobUpdates(jobId: $jobId) {
                ...JobUpdateFields
              }
            }

            fragment JobUpdateFields on JobUpdate {
              jobId
              type
              status
              at
              queuePosition
              etaSeconds
              step
              totalSteps
              percent
              preview
              output {
                ...OutputFields
              }
              error {
                code
                message
              }
              charged
              refunded
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
        variables: dict[str, object] = {"jobId": job_id}
        async for data in self.execute_ws(
            query=query, operation_name="JobUpdates", variables=variables, **kwargs
        ):
            yield JobUpdates.model_validate(data)

    async def my_job_updates(self, **kwargs: Any) -> AsyncIterator[MyJobUpdates]:
        query = gql("""
            subscription MyJobUpdates {
              myJobUpdates {
                ...JobUpdateFields
              }
            }

            fragment JobUpdateFields on JobUpdate {
              jobId
              type
              status
              at
              queuePosition
              etaSeconds
              step
              totalSteps
              percent
              preview
              output {
                ...OutputFields
              }
              error {
                code
                message
              }
              charged
              refunded
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
        variables: dict[str, object] = {}
        async for data in self.execute_ws(
            query=query, operation_name="MyJobUpdates", variables=variables, **kwargs
        ):
            yield MyJobUpdates.model_validate(data)
