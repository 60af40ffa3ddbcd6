/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** A new API token. */
export type ApiTokenCreateInput = {
  /** Label, 1 to 50 characters after trimming; default "Secret key". */
  name?: string | null | undefined;
  /** What the token may do; default [GENERATE, READ]. Never more than the creating token has. */
  scopes?: Array<Scope> | null | undefined;
};

/** Width to height, matched exactly (width * h == height * w). */
export type AspectRatio =
  /** 2.4:1 (12:5). */
  | 'LANDSCAPE_2_4_1'
  /** 3:2. */
  | 'LANDSCAPE_3_2'
  /** 4:3. */
  | 'LANDSCAPE_4_3'
  /** 5:4. */
  | 'LANDSCAPE_5_4'
  /** 16:9. */
  | 'LANDSCAPE_16_9'
  /** 2:3. */
  | 'PORTRAIT_2_3'
  /** 3:4. */
  | 'PORTRAIT_3_4'
  /** 4:5. */
  | 'PORTRAIT_4_5'
  /** 9:16. */
  | 'PORTRAIT_9_16'
  /** 1:1. */
  | 'SQUARE_1_1';

/** Aspect ratio match, computed exactly from width and height. */
export type AspectRatioFilter = {
  /** Equals. */
  _eq?: AspectRatio | null | undefined;
  /** One of these. */
  _in?: Array<AspectRatio> | null | undefined;
  /** None of these. */
  _nin?: Array<AspectRatio> | null | undefined;
};

/** Boolean match. */
export type BooleanFilter = {
  /** Equals. */
  _eq?: boolean | null | undefined;
};

/** Where a ledger row's credits came from. */
export type CreditType =
  /** Free-tier credits: at sign-up and the periodic top-ups. */
  | 'FREE'
  /** Given by an operator. */
  | 'GRANT'
  /** Bought credits. */
  | 'PURCHASE'
  /** Returned for a failed or cancelled job; spent first. */
  | 'REFUND';

/** Time range; bounds need a UTC offset, e.g. 2026-01-01T00:00:00Z. */
export type DateTimeFilter = {
  /** After. */
  _gt?: string | null | undefined;
  /** At or after. */
  _gte?: string | null | undefined;
  /** Before. */
  _lt?: string | null | undefined;
  /** At or before. */
  _lte?: string | null | undefined;
};

/** Sort direction; NULLs come last either way. */
export type Direction =
  /** Smallest or oldest first. */
  | 'ASC'
  /** Largest or newest first. */
  | 'DESC';

/** Why a request or one of its inputs was refused: in userErrors { code } and in errors[].extensions.code. Stable: values are added, never renamed. */
export type ErrorCode =
  /** Something with this identity exists already. */
  | 'ALREADY_EXISTS'
  /** The HTTP request itself is malformed (not a GraphQL request). */
  | 'BAD_REQUEST'
  /** A value that breaks a rule of the schema or of its field. */
  | 'BAD_USER_INPUT'
  /** The token lacks the scope this needs, or the rule forbids it. */
  | 'FORBIDDEN'
  /** The idempotency key was used before with different input. */
  | 'IDEMPOTENCY_CONFLICT'
  /** An image over 10 MB or its pixel limit. */
  | 'IMAGE_TOO_LARGE'
  /** The balance does not cover the cost; nothing was charged. */
  | 'INSUFFICIENT_CREDITS'
  /** An unexpected server error; it was logged. Retrying may help. */
  | 'INTERNAL'
  /** An image that is empty, corrupt, truncated or not PNG, JPEG or WebP. */
  | 'INVALID_IMAGE'
  /** Width or height is not a multiple of 8 within the model's bounds. */
  | 'INVALID_SIZE'
  /** The job has finished already, so it cannot change. */
  | 'JOB_FINISHED'
  /** An HTTP method /graphql does not serve. */
  | 'METHOD_NOT_ALLOWED'
  /** No such object of yours (another account's ids are not found either). */
  | 'NOT_FOUND'
  /** A gallery review would approve an output that is private or deleted. */
  | 'NOT_PUBLIC'
  /** A gallery review names an output its owner never submitted. */
  | 'NOT_SUBMITTED'
  /** An operation type this transport does not carry. */
  | 'OPERATION_NOT_ALLOWED'
  /** A number outside its allowed range; never clamped. */
  | 'OUT_OF_RANGE'
  /** The request body is over its size limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** A prompt over 500 characters; never cut. */
  | 'PROMPT_TOO_LONG'
  /** The operation is over the cost, depth, alias or size limits. */
  | 'QUERY_TOO_COMPLEX'
  /** Too many of the account's jobs wait for a free slot already. */
  | 'QUEUE_LIMIT_REACHED'
  /** The caller's points or job-creation budget is spent; retry later. */
  | 'RATE_LIMITED'
  /** A value that must be given (or must not be empty) is missing. */
  | 'REQUIRED'
  /** A text over its length limit; never cut. */
  | 'TOO_LONG'
  /** One connection runs as many operations as it may. */
  | 'TOO_MANY_SUBSCRIPTIONS'
  /** The account has as many active tokens as it may. */
  | 'TOO_MANY_TOKENS'
  /** The account has as many webhook endpoints as it may. */
  | 'TOO_MANY_WEBHOOK_ENDPOINTS'
  /** No valid token: missing, malformed, unknown or revoked. */
  | 'UNAUTHENTICATED'
  /** A dependency is away for a moment; nothing changed, try again. */
  | 'UNAVAILABLE'
  /** No model or upscaler with this id in the catalog. */
  | 'UNKNOWN_MODEL'
  /** A scheduler the model does not accept; never swapped. */
  | 'UNKNOWN_SCHEDULER'
  /** A webhook URL that is not https, carries credentials, or names a loopback, private, link-local or metadata address. */
  | 'URL_NOT_ALLOWED';

/** Number comparisons; every given operator must hold. */
export type FloatFilter = {
  /** Equals. */
  _eq?: number | null | undefined;
  /** Greater than. */
  _gt?: number | null | undefined;
  /** At least. */
  _gte?: number | null | undefined;
  /** One of these; at most 100 values. */
  _in?: Array<number> | null | undefined;
  /** True: only NULL; false: only set. */
  _is_null?: boolean | null | undefined;
  /** Less than. */
  _lt?: number | null | undefined;
  /** At most. */
  _lte?: number | null | undefined;
  /** Differs from (NULL never matches). */
  _neq?: number | null | undefined;
  /** None of these; at most 100 values. */
  _nin?: Array<number> | null | undefined;
};

/** An output's standing in the public gallery. */
export type GalleryStatus =
  /** Shown in the public gallery (while public and not deleted). */
  | 'APPROVED'
  /** Not offered to the gallery. */
  | 'NOT_SUBMITTED'
  /** Not shown in the gallery. */
  | 'REJECTED'
  /** Offered; waiting for a moderator. */
  | 'SUBMITTED'
  /** Under review. */
  | 'WAITING_FOR_APPROVAL';

/** Gallery status match. */
export type GalleryStatusFilter = {
  /** Equals. */
  _eq?: GalleryStatus | null | undefined;
  /** One of these. */
  _in?: Array<GalleryStatus> | null | undefined;
  /** None of these. */
  _nin?: Array<GalleryStatus> | null | undefined;
};

/** Conditions on gallery images, on what they show; every given field must hold. Nest _and/_or/_not up to 5 deep. */
export type GalleryWhere = {
  /** All of these hold; at most 100 values. */
  _and?: Array<GalleryWhere> | null | undefined;
  /** Does not hold (NULLs included). */
  _not?: GalleryWhere | null | undefined;
  /** At least one holds; at most 100 values; [] matches none. */
  _or?: Array<GalleryWhere> | null | undefined;
  /** Exact width-to-height ratio. */
  aspectRatio?: AspectRatioFilter | null | undefined;
  /** When the image was stored. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Height in pixels. */
  height?: IntFilter | null | undefined;
  /** True for upscales, false for generated images. */
  isUpscaled?: BooleanFilter | null | undefined;
  /** Catalog model (or upscaler) id. */
  modelId?: StringFilter | null | undefined;
  /** Prompt text. */
  prompt?: PromptFilter | null | undefined;
  /** Scheduler id, e.g. K_EULER. */
  schedulerId?: StringFilter | null | undefined;
  /** Width in pixels. */
  width?: IntFilter | null | undefined;
};

/** A text-to-image or image-to-image request. */
export type GenerationCreateInput = {
  /** Prompt adherence, 1 to 20; default the model's (7.0). */
  guidanceScale?: number | null | undefined;
  /** Height in pixels, same rules as width. */
  height?: number | null | undefined;
  /** Up to 100 characters: a repeat with the same key and input returns the first job, charged once. */
  idempotencyKey?: string | null | undefined;
  /** Denoising steps within the model's range; default the model's. */
  inferenceSteps?: number | null | undefined;
  /** An uploaded image's id (imageUpload): makes this image-to-image. */
  initImageId?: string | number | null | undefined;
  /** Show in the public gallery. Free-tier images are always public; paid default private. */
  isPublic?: boolean | null | undefined;
  /** The model: its `id` or `modelId` from `models`; default the default model. */
  modelId?: string | number | null | undefined;
  /** What to avoid; at most 500 characters. */
  negativePrompt?: string | null | undefined;
  /** Images to make, 1 to 4; each costs 1 credit. */
  numOutputs?: number | null | undefined;
  /** 0: no previews; N: a low-resolution preview in the updates every N steps (and on the last). */
  previewEvery?: number | null | undefined;
  /** What to draw: 1 to 500 characters after whitespace is collapsed. Never cut. */
  prompt: string;
  /** Image-to-image only: how far to move from the init image, in (0, 1]; default 0.5. */
  promptStrength?: number | null | undefined;
  /** Scheduler id among the model's schedulers; default the model's. An incompatible one is refused, never swapped. */
  schedulerId?: string | null | undefined;
  /** 0 to 2147483646; image i uses seed + i. Default: random, reported per output. */
  seed?: number | null | undefined;
  /** POST this job's events to a URL of yours, as well as to your webhook endpoints; default none. */
  webhook?: JobHookInput | null | undefined;
  /** Width in pixels: a multiple of the model's size multiple (8) within its bounds; default the model's. */
  width?: number | null | undefined;
};

/** Integer comparisons; every given operator must hold. */
export type IntFilter = {
  /** Equals. */
  _eq?: number | null | undefined;
  /** Greater than. */
  _gt?: number | null | undefined;
  /** At least. */
  _gte?: number | null | undefined;
  /** One of these; at most 100 values. */
  _in?: Array<number> | null | undefined;
  /** True: only NULL; false: only set. */
  _is_null?: boolean | null | undefined;
  /** Less than. */
  _lt?: number | null | undefined;
  /** At most. */
  _lte?: number | null | undefined;
  /** Differs from (NULL never matches). */
  _neq?: number | null | undefined;
  /** None of these; at most 100 values. */
  _nin?: Array<number> | null | undefined;
};

/** Why a job failed (it was refunded). Stable: values are added, never renamed. */
export type JobErrorCode =
  /** The model failed on the worker, or could not be loaded. */
  | 'ENGINE_ERROR'
  /** The job waited in the queue longer than the queue time limit. */
  | 'EXPIRED'
  /** The request no longer fits the catalog (its model was removed). */
  | 'INVALID_REQUEST'
  /** An input could not be read or an output could not be stored. */
  | 'STORAGE_ERROR'
  /** The job ran longer than the job time limit. */
  | 'TIMEOUT';

/** What a job's own webhook (given at submission) is sent. */
export type JobHookEvent =
  /** The end: job.succeeded (with every output), job.failed or job.cancelled. Never dropped; retried until delivered. */
  | 'COMPLETED'
  /** job.output: one image was stored. With PROGRESS, at most one per 500 ms per job. Sent once. */
  | 'OUTPUT'
  /** job.progress: a step was done. With OUTPUT, at most one per 500 ms per job; the rest are dropped. Sent once. */
  | 'PROGRESS'
  /** job.started: a worker started the job. Sent once. */
  | 'STARTED';

/** A job's own webhook: its events are POSTed there, signed with webhookSigningSecret. */
export type JobHookInput = {
  /** The events to send; default STARTED, OUTPUT and COMPLETED. Not empty. */
  events?: Array<JobHookEvent> | null | undefined;
  /** https URL, at most 2000 characters, without credentials; its host must resolve to public addresses only (checked at submission and at every send). */
  url: string;
};

/** What a job does. */
export type JobKind =
  /** Text-to-image or image-to-image; 1 credit per image. */
  | 'GENERATE'
  /** A 4x upscale; 1 credit. */
  | 'UPSCALE';

/** Which client submitted a job. */
export type JobSource =
  /** Any API client (the default). */
  | 'API'
  /** The darkroom CLI and client (X-Darkroom-Source: CLI). */
  | 'CLI'
  /** The web app (it sends X-Darkroom-Source: WEB). */
  | 'WEB';

/** Job source match. */
export type JobSourceFilter = {
  /** Equals. */
  _eq?: JobSource | null | undefined;
  /** One of these. */
  _in?: Array<JobSource> | null | undefined;
  /** None of these. */
  _nin?: Array<JobSource> | null | undefined;
};

/** Where a job is: QUEUED, RUNNING, then one of SUCCEEDED, FAILED, CANCELLED. */
export type JobStatus =
  /** Stopped on request; images not delivered are refunded. */
  | 'CANCELLED'
  /** Stopped by an error, a timeout or expiry; refunded in full. */
  | 'FAILED'
  /** Accepted and charged; waiting for a slot or a worker. */
  | 'QUEUED'
  /** A worker is on it; progress events flow. */
  | 'RUNNING'
  /** Every image is stored. */
  | 'SUCCEEDED';

/** What happened to a job. */
export type JobUpdateType =
  /** It was cancelled; the last update. */
  | 'CANCELLED'
  /** It failed and was refunded; the last update. */
  | 'FAILED'
  /** An image was stored. */
  | 'OUTPUT'
  /** A denoising step (or an upscale tile) finished. */
  | 'PROGRESS'
  /** Accepted, or its place in the queue changed. */
  | 'QUEUED'
  /** A worker started it. */
  | 'STARTED'
  /** Every image is stored; the last update. */
  | 'SUCCEEDED';

/** Which jobs to list; every given field must hold. */
export type JobWhere = {
  /** Only jobs of these kinds; [] matches none. */
  kind?: Array<JobKind> | null | undefined;
  /** Only jobs in one of these states; [] matches none. */
  status?: Array<JobStatus> | null | undefined;
};

/** Architecture family of a generation model. */
export type ModelFamily =
  /** Stable Diffusion 2.x. */
  | 'SD2'
  /** Stable Diffusion 1.x. */
  | 'SD15'
  /** Stable Diffusion XL. */
  | 'SDXL';

/** One sort term; give several to break ties in order. */
export type OutputOrderBy = {
  /** ASC or DESC (default DESC). */
  direction?: Direction | null | undefined;
  /** What to sort by. */
  field: OutputOrderField;
};

/** What outputs can be sorted by; the id always breaks ties. */
export type OutputOrderField =
  /** When the output was stored. */
  | 'CREATED_AT'
  /** Guidance scale (NULL for upscales, sorted last). */
  | 'GUIDANCE_SCALE'
  /** Height in pixels. */
  | 'HEIGHT'
  /** Denoising steps (NULL for upscales, sorted last). */
  | 'INFERENCE_STEPS'
  /** Width in pixels. */
  | 'WIDTH';

/** Conditions on your outputs; every given field must hold. Nest _and/_or/_not up to 5 deep. */
export type OutputWhere = {
  /** All of these hold; at most 100 values. */
  _and?: Array<OutputWhere> | null | undefined;
  /** Does not hold (NULLs included). */
  _not?: OutputWhere | null | undefined;
  /** At least one holds; at most 100 values; [] matches none. */
  _or?: Array<OutputWhere> | null | undefined;
  /** Exact width-to-height ratio. */
  aspectRatio?: AspectRatioFilter | null | undefined;
  /** When the image was stored. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Standing in the public gallery. */
  galleryStatus?: GalleryStatusFilter | null | undefined;
  /** Guidance scale; NULL for upscales. */
  guidanceScale?: FloatFilter | null | undefined;
  /** Height in pixels. */
  height?: IntFilter | null | undefined;
  /** Denoising steps; NULL for upscales. */
  inferenceSteps?: IntFilter | null | undefined;
  /** Marked as a favorite. */
  isFavorite?: BooleanFilter | null | undefined;
  /** Visible in the public gallery. */
  isPublic?: BooleanFilter | null | undefined;
  /** True for upscales, false for generated images. */
  isUpscaled?: BooleanFilter | null | undefined;
  /** Only the outputs of this job (its `id`). */
  jobId?: string | number | null | undefined;
  /** Catalog model (or upscaler) id. */
  modelId?: StringFilter | null | undefined;
  /** Prompt text. */
  prompt?: PromptFilter | null | undefined;
  /** Scheduler id, e.g. K_EULER. */
  schedulerId?: StringFilter | null | undefined;
  /** Seed; NULL for upscales. */
  seed?: IntFilter | null | undefined;
  /** Which client submitted the job. */
  source?: JobSourceFilter | null | undefined;
  /** Width in pixels. */
  width?: IntFilter | null | undefined;
};

/** Prompt text match; both given means both must hold. */
export type PromptFilter = {
  /** Case-insensitive LIKE: % is any run, _ any one character, a backslash makes the next one literal; at most 1000 characters. */
  _ilike?: string | null | undefined;
  /** Every word must appear (full text on PostgreSQL); at most 1000 characters. */
  _search?: string | null | undefined;
};

/** What a token may do. */
export type Scope =
  /** Moderate the public gallery. Never a default; only a token holding it can grant it. */
  | 'ADMIN'
  /** Create, cancel and watch jobs; upload input images. */
  | 'GENERATE'
  /** Create and revoke tokens, delete outputs, change visibility and gallery status. */
  | 'MANAGE'
  /** Read /metrics (Prometheus). Never a default; only a token holding it can grant it. */
  | 'METRICS'
  /** Read outputs, jobs, usage, credits; favorite outputs. */
  | 'READ';

/** Exact text match, e.g. a catalog model or scheduler id. */
export type StringFilter = {
  /** Equals; at most 1000 characters. */
  _eq?: string | null | undefined;
  /** One of these; at most 100 values. */
  _in?: Array<string> | null | undefined;
  /** None of these; at most 100 values. */
  _nin?: Array<string> | null | undefined;
};

/** Account plan: decides how many jobs run at once and the queue lane. */
export type Tier =
  /** 1 job at a time by default; free lane; 50 credits, topped up by 10 every 12 hours. */
  | 'FREE'
  /** 3 jobs at a time by default; paid lane. */
  | 'PRO'
  /** 2 jobs at a time by default; paid lane, served before free jobs. */
  | 'STARTER'
  /** 4 jobs at a time by default; paid lane. */
  | 'ULTIMATE';

/** A 4x upscale of an upload or of one's own output. */
export type UpscaleCreateInput = {
  /** As for generationCreate. */
  idempotencyKey?: string | null | undefined;
  /** An uploaded image's id (imageUpload), at most 1,048,576 pixels. */
  imageId?: string | number | null | undefined;
  /** The upscaler: its `modelId` from `upscaleModels`; default the default one. */
  modelId?: string | number | null | undefined;
  /** One of your outputs; one already upscaled is returned again at no cost. */
  outputId?: string | number | null | undefined;
  /** As for generationCreate: POST this job's events to a URL of yours, as well as to your webhook endpoints; default none. */
  webhook?: JobHookInput | null | undefined;
};

/** Which jobs to list; every given field must hold. */
export type UsageWhere = {
  /** When the job was submitted. */
  createdAt?: DateTimeFilter | null | undefined;
  /** Any of these kinds; [] matches none. */
  kind?: Array<JobKind> | null | undefined;
  /** Any of these sources; [] matches none. */
  source?: Array<JobSource> | null | undefined;
  /** Only jobs submitted with this API token. */
  tokenId?: string | number | null | undefined;
};

/** Where one webhook delivery is. */
export type WebhookDeliveryStatus =
  /** The endpoint answered 2xx. */
  | 'DELIVERED'
  /** Given up: its attempts are spent, its address was refused, or its endpoint was deleted. */
  | 'FAILED'
  /** Not delivered yet: its first attempt or a retry is due. */
  | 'PENDING';

/** Which webhook deliveries to list; every given field must hold. */
export type WebhookDeliveryWhere = {
  /** Only deliveries to this endpoint (deleted ones too). */
  endpointId?: string | number | null | undefined;
  /** Only deliveries about this job. */
  jobId?: string | number | null | undefined;
  /** Only deliveries in one of these states; [] matches none. */
  status?: Array<WebhookDeliveryStatus> | null | undefined;
};

/** A new webhook endpoint. */
export type WebhookEndpointCreateInput = {
  /** The events to send; default all of them. Not empty. */
  events?: Array<WebhookEvent> | null | undefined;
  /** https URL, at most 2000 characters, without credentials; it may not name a loopback, private, link-local or metadata address (checked again at every send, after resolving). */
  url: string;
};

/** A job event webhooks announce; the payload's `type` is the value in lower case with a dot, e.g. "job.succeeded". */
export type WebhookEvent =
  /** job.cancelled: the job was cancelled. Retried until delivered. */
  | 'JOB_CANCELLED'
  /** job.failed: the job failed and was refunded. Retried until delivered. */
  | 'JOB_FAILED'
  /** job.output: one image was stored. Sent once, not retried. */
  | 'JOB_OUTPUT'
  /** job.progress: a step was denoised; only a job's own webhook gets it, at most one progress or output per 500 ms. Sent once. */
  | 'JOB_PROGRESS'
  /** job.started: a worker started the job. Sent once, not retried. */
  | 'JOB_STARTED'
  /** job.succeeded: every image is stored; carries them all. Retried until delivered. */
  | 'JOB_SUCCEEDED';

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { email: string, tier: Tier, parallelLimit: number, createdAt: string, tokenScopes: Array<Scope>, credits: { total: number, rows: Array<{ type: CreditType, remaining: number, expiresAt: string | null }> } } };

export type ModelsQueryVariables = Exact<{ [key: string]: never; }>;


export type ModelsQuery = { models: Array<{ id: string, modelId: string, name: string, description: string, isDefault: boolean, family: ModelFamily, defaultWidth: number, defaultHeight: number, defaultSteps: number, minWidth: number, maxWidth: number, minHeight: number, maxHeight: number, sizeMultiple: number, minSteps: number, maxSteps: number, schedulers: Array<{ schedulerId: string, name: string }> }> };

export type GalleryQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  where?: GalleryWhere | null | undefined;
  search?: string | null | undefined;
  similarTo?: string | number | null | undefined;
}>;


export type GalleryQuery = { gallery: { pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, score: number | null, node: { id: string, width: number, height: number, format: string, seed: number | null, createdAt: string, url: string, author: { handle: string }, generation: { prompt: string, negativePrompt: string, modelId: string } } }> } };

export type UserErrorFieldsFragment = { field: Array<string> | null, code: ErrorCode, message: string };

export type JobFieldsFragment = { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> };

export type GenerateMutationVariables = Exact<{
  input: GenerationCreateInput;
  wait?: number | null | undefined;
}>;


export type GenerateMutation = { generationCreate: { job: { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type UpscaleMutationVariables = Exact<{
  input: UpscaleCreateInput;
  wait?: number | null | undefined;
}>;


export type UpscaleMutation = { upscaleCreate: { reused: boolean, job: { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type CancelMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelMutation = { jobCancel: { job: { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type JobQueryVariables = Exact<{
  id: string | number;
}>;


export type JobQuery = { job: { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> } };

export type JobsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  where?: JobWhere | null | undefined;
  withTotalCount?: boolean | null | undefined;
}>;


export type JobsQuery = { jobs: { totalCount?: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, kind: JobKind, status: JobStatus, modelId: string, prompt: string | null, negativePrompt: string | null, width: number | null, height: number | null, numOutputs: number, inferenceSteps: number | null, guidanceScale: number | null, schedulerId: string | null, seed: number | null, step: number, totalSteps: number, progress: number, cost: number, refunded: number, createdAt: string, startedAt: string | null, finishedAt: string | null, queuePosition: number | null, etaSeconds: number | null, error: { code: JobErrorCode, message: string } | null, outputs: Array<{ id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string }> } }> } };

export type OutputFieldsFragment = { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string };

export type PageInfoFieldsFragment = { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null };

export type OutputsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  where?: OutputWhere | null | undefined;
  orderBy?: Array<OutputOrderBy> | OutputOrderBy | null | undefined;
  withTotalCount?: boolean | null | undefined;
}>;


export type OutputsQuery = { outputs: { totalCount?: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string } }> } };

export type SearchOutputsQueryVariables = Exact<{
  search?: string | null | undefined;
  similarTo?: string | number | null | undefined;
  where?: OutputWhere | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
  withTotalCount?: boolean | null | undefined;
}>;


export type SearchOutputsQuery = { outputs: { totalCount?: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, score: number | null, node: { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string, generation: { prompt: string } } }> } };

export type NodeQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeQuery = { node:
    | { __typename: 'ApiToken', id: string }
    | { __typename: 'GalleryImage', id: string }
    | { __typename: 'Job', status: JobStatus, id: string }
    | { __typename: 'Model', id: string }
    | { __typename: 'Output', imageUrl: string, id: string }
    | { __typename: 'UploadedImage', id: string }
    | { __typename: 'WebhookDelivery', id: string }
    | { __typename: 'WebhookEndpoint', id: string }
   };

export type ApiTokenFieldsFragment = { id: string, name: string, preview: string, scopes: Array<Scope>, isActive: boolean, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, uses: number, creditsSpent: number };

export type ApiTokensQueryVariables = Exact<{ [key: string]: never; }>;


export type ApiTokensQuery = { apiTokens: Array<{ id: string, name: string, preview: string, scopes: Array<Scope>, isActive: boolean, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, uses: number, creditsSpent: number }> };

export type ApiTokenCreateMutationVariables = Exact<{
  input: ApiTokenCreateInput;
}>;


export type ApiTokenCreateMutation = { apiTokenCreate: { secret: string | null, apiToken: { id: string, name: string, preview: string, scopes: Array<Scope>, isActive: boolean, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, uses: number, creditsSpent: number } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type ApiTokenRevokeMutationVariables = Exact<{
  id: string | number;
}>;


export type ApiTokenRevokeMutation = { apiTokenRevoke: { apiToken: { id: string, name: string, preview: string, scopes: Array<Scope>, isActive: boolean, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, uses: number, creditsSpent: number } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type JobUpdateFieldsFragment = { jobId: string, type: JobUpdateType, status: JobStatus, at: string, queuePosition: number | null, etaSeconds: number | null, step: number | null, totalSteps: number | null, percent: number | null, preview: string | null, charged: number | null, refunded: number | null, output: { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string } | null, error: { code: JobErrorCode, message: string } | null };

export type ImageUploadMutationVariables = Exact<{
  file: never;
}>;


export type ImageUploadMutation = { imageUpload: { upload: { id: string, format: string, width: number, height: number, sizeBytes: number, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type UsageQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  where?: UsageWhere | null | undefined;
}>;


export type UsageQuery = { usage: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { kind: JobKind, jobId: string, status: JobStatus, source: JobSource, tokenId: string | null, tokenPreview: string | null, charged: number, refunded: number, net: number, createdAt: string, finishedAt: string | null } }> } };

export type UsageTotalsQueryVariables = Exact<{
  since?: string | null | undefined;
}>;


export type UsageTotalsQuery = { me: { usageSummary: Array<{ source: JobSource, kind: JobKind, jobs: number, charged: number, refunded: number, net: number }> } };

export type WebhookEndpointFieldsFragment = { id: string, url: string, events: Array<WebhookEvent>, isActive: boolean, createdAt: string };

export type WebhookEndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type WebhookEndpointsQuery = { webhookEndpoints: Array<{ id: string, url: string, events: Array<WebhookEvent>, isActive: boolean, createdAt: string }> };

export type WebhookEndpointCreateMutationVariables = Exact<{
  input: WebhookEndpointCreateInput;
}>;


export type WebhookEndpointCreateMutation = { webhookEndpointCreate: { secret: string | null, webhookEndpoint: { id: string, url: string, events: Array<WebhookEvent>, isActive: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type WebhookEndpointRotateSecretMutationVariables = Exact<{
  id: string | number;
}>;


export type WebhookEndpointRotateSecretMutation = { webhookEndpointRotateSecret: { secret: string | null, webhookEndpoint: { id: string, url: string, events: Array<WebhookEvent>, isActive: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type WebhookEndpointDeleteMutationVariables = Exact<{
  id: string | number;
}>;


export type WebhookEndpointDeleteMutation = { webhookEndpointDelete: { webhookEndpoint: { id: string, url: string, events: Array<WebhookEvent>, isActive: boolean, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, code: ErrorCode, message: string }> } };

export type WebhookDeliveriesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  where?: WebhookDeliveryWhere | null | undefined;
}>;


export type WebhookDeliveriesQuery = { webhookDeliveries: { pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, messageId: string, endpointId: string | null, jobId: string, event: WebhookEvent, status: WebhookDeliveryStatus, attempts: number, maxAttempts: number, responseCode: number | null, lastError: string | null, nextAttemptAt: string | null, lastAttemptAt: string | null, createdAt: string } }> } };

export type JobUpdatesSubscriptionVariables = Exact<{
  jobId: string | number;
}>;


export type JobUpdatesSubscription = { jobUpdates: { jobId: string, type: JobUpdateType, status: JobStatus, at: string, queuePosition: number | null, etaSeconds: number | null, step: number | null, totalSteps: number | null, percent: number | null, preview: string | null, charged: number | null, refunded: number | null, output: { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string } | null, error: { code: JobErrorCode, message: string } | null } };

export type MyJobUpdatesSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type MyJobUpdatesSubscription = { myJobUpdates: { jobId: string, type: JobUpdateType, status: JobStatus, at: string, queuePosition: number | null, etaSeconds: number | null, step: number | null, totalSteps: number | null, percent: number | null, preview: string | null, charged: number | null, refunded: number | null, output: { id: string, jobId: string, index: number, width: number, height: number, seed: number | null, format: string, isFavorite: boolean, isPublic: boolean, isUpscaled: boolean, createdAt: string, imageUrl: string } | null, error: { code: JobErrorCode, message: string } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const UserErrorFieldsFragmentDoc = new TypedDocumentString(`
    fragment UserErrorFields on UserError {
  field
  code
  message
}
    `, {"fragmentName":"UserErrorFields"}) as unknown as TypedDocumentString<UserErrorFieldsFragment, unknown>;
export const OutputFieldsFragmentDoc = new TypedDocumentString(`
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
    `, {"fragmentName":"OutputFields"}) as unknown as TypedDocumentString<OutputFieldsFragment, unknown>;
export const JobFieldsFragmentDoc = new TypedDocumentString(`
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
}`, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const PageInfoFieldsFragmentDoc = new TypedDocumentString(`
    fragment PageInfoFields on PageInfo {
  hasNextPage
  hasPreviousPage
  startCursor
  endCursor
}
    `, {"fragmentName":"PageInfoFields"}) as unknown as TypedDocumentString<PageInfoFieldsFragment, unknown>;
export const ApiTokenFieldsFragmentDoc = new TypedDocumentString(`
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
    `, {"fragmentName":"ApiTokenFields"}) as unknown as TypedDocumentString<ApiTokenFieldsFragment, unknown>;
export const JobUpdateFieldsFragmentDoc = new TypedDocumentString(`
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
}`, {"fragmentName":"JobUpdateFields"}) as unknown as TypedDocumentString<JobUpdateFieldsFragment, unknown>;
export const WebhookEndpointFieldsFragmentDoc = new TypedDocumentString(`
    fragment WebhookEndpointFields on WebhookEndpoint {
  id
  url
  events
  isActive
  createdAt
}
    `, {"fragmentName":"WebhookEndpointFields"}) as unknown as TypedDocumentString<WebhookEndpointFieldsFragment, unknown>;
export const MeDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const ModelsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<ModelsQuery, ModelsQueryVariables>;
export const GalleryDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<GalleryQuery, GalleryQueryVariables>;
export const GenerateDocument = new TypedDocumentString(`
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
    fragment UserErrorFields on UserError {
  field
  code
  message
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
}`) as unknown as TypedDocumentString<GenerateMutation, GenerateMutationVariables>;
export const UpscaleDocument = new TypedDocumentString(`
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
    fragment UserErrorFields on UserError {
  field
  code
  message
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
}`) as unknown as TypedDocumentString<UpscaleMutation, UpscaleMutationVariables>;
export const CancelDocument = new TypedDocumentString(`
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
    fragment UserErrorFields on UserError {
  field
  code
  message
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
}`) as unknown as TypedDocumentString<CancelMutation, CancelMutationVariables>;
export const JobDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<JobQuery, JobQueryVariables>;
export const JobsDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<JobsQuery, JobsQueryVariables>;
export const OutputsDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<OutputsQuery, OutputsQueryVariables>;
export const SearchOutputsDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<SearchOutputsQuery, SearchOutputsQueryVariables>;
export const NodeDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<NodeQuery, NodeQueryVariables>;
export const ApiTokensDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<ApiTokensQuery, ApiTokensQueryVariables>;
export const ApiTokenCreateDocument = new TypedDocumentString(`
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
    fragment UserErrorFields on UserError {
  field
  code
  message
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
}`) as unknown as TypedDocumentString<ApiTokenCreateMutation, ApiTokenCreateMutationVariables>;
export const ApiTokenRevokeDocument = new TypedDocumentString(`
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
    fragment UserErrorFields on UserError {
  field
  code
  message
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
}`) as unknown as TypedDocumentString<ApiTokenRevokeMutation, ApiTokenRevokeMutationVariables>;
export const ImageUploadDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<ImageUploadMutation, ImageUploadMutationVariables>;
export const UsageDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<UsageQuery, UsageQueryVariables>;
export const UsageTotalsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<UsageTotalsQuery, UsageTotalsQueryVariables>;
export const WebhookEndpointsDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<WebhookEndpointsQuery, WebhookEndpointsQueryVariables>;
export const WebhookEndpointCreateDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<WebhookEndpointCreateMutation, WebhookEndpointCreateMutationVariables>;
export const WebhookEndpointRotateSecretDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<WebhookEndpointRotateSecretMutation, WebhookEndpointRotateSecretMutationVariables>;
export const WebhookEndpointDeleteDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<WebhookEndpointDeleteMutation, WebhookEndpointDeleteMutationVariables>;
export const WebhookDeliveriesDocument = new TypedDocumentString(`
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
}`) as unknown as TypedDocumentString<WebhookDeliveriesQuery, WebhookDeliveriesQueryVariables>;
export const JobUpdatesDocument = new TypedDocumentString(`
    subscription JobUpdates($jobId: ID!) {
  jobUpdates(jobId: $jobId) {
    ...JobUpdateFields
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
}`) as unknown as TypedDocumentString<JobUpdatesSubscription, JobUpdatesSubscriptionVariables>;
export const MyJobUpdatesDocument = new TypedDocumentString(`
    subscription MyJobUpdates {
  myJobUpdates {
    ...JobUpdateFields
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
}`) as unknown as TypedDocumentString<MyJobUpdatesSubscription, MyJobUpdatesSubscriptionVariables>;