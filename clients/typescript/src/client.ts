// A typed client for one Darkroom server and one API token: queries and
// mutations over fetch, live job updates over graphql-transport-ws.
import { type Client as SocketClient, createClient as createSocketClient } from "graphql-ws";
import WebSocket from "ws";

import {
  DarkroomError,
  DarkroomInputError,
  type GraphQLErrorBody,
  type Problem,
} from "./errors.js";
import {
  type ApiTokenCreateInput,
  ApiTokenCreateDocument,
  type ApiTokenFieldsFragment,
  ApiTokenRevokeDocument,
  ApiTokensDocument,
  CancelDocument,
  GalleryDocument,
  type GalleryQuery,
  type GalleryQueryVariables,
  ImageUploadDocument,
  type ImageUploadMutation,
  NodeDocument,
  type NodeQuery,
  SearchOutputsDocument,
  type SearchOutputsQuery,
  type SearchOutputsQueryVariables,
  UsageDocument,
  type UsageQuery,
  type UsageQueryVariables,
  UsageTotalsDocument,
  type UsageTotalsQuery,
  WebhookDeliveriesDocument,
  type WebhookDeliveriesQuery,
  type WebhookDeliveriesQueryVariables,
  WebhookEndpointCreateDocument,
  type WebhookEndpointCreateInput,
  WebhookEndpointDeleteDocument,
  type WebhookEndpointFieldsFragment,
  WebhookEndpointRotateSecretDocument,
  WebhookEndpointsDocument,
  GenerateDocument,
  type GenerationCreateInput,
  JobDocument,
  type JobFieldsFragment,
  JobsDocument,
  type JobsQuery,
  type JobsQueryVariables,
  type JobUpdatesSubscription,
  JobUpdatesDocument,
  MeDocument,
  type MeQuery,
  ModelsDocument,
  type ModelsQuery,
  OutputsDocument,
  type OutputFieldsFragment,
  type OutputsQuery,
  type OutputsQueryVariables,
  type TypedDocumentString,
  UpscaleDocument,
  type UpscaleCreateInput,
} from "./generated/graphql.js";

// Names for the generated shapes callers meet most; each is the generated type.
export type Job = JobFieldsFragment;
export type JobUpdate = JobUpdatesSubscription["jobUpdates"];
export type Output = OutputFieldsFragment;
export type JobPage = JobsQuery["jobs"];
export type OutputPage = OutputsQuery["outputs"];
export type Me = MeQuery["me"];
export type Model = ModelsQuery["models"][number];
export type ApiToken = ApiTokenFieldsFragment;
export type UsagePage = UsageQuery["usage"];
export type UsageSummary = UsageTotalsQuery["me"]["usageSummary"];
export type SearchPage = SearchOutputsQuery["outputs"];
export type GalleryPage = GalleryQuery["gallery"];
export type NodeResult = NodeQuery["node"];
export type Upload = NonNullable<ImageUploadMutation["imageUpload"]["upload"]>;
export type WebhookEndpoint = WebhookEndpointFieldsFragment;
export type DeliveryPage = WebhookDeliveriesQuery["webhookDeliveries"];

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql. */
  url: string;
  /** An API token (drk_...); the catalog (`models`) works without one. */
  token?: string;
}

/** `wait`: seconds (0 to 60) the server may hold the answer for the job to end. */
export interface SubmitOptions {
  wait?: number;
}

// graphql-transport-ws "Forbidden": Darkroom closes with it when the token in
// connection_init is missing, wrong or revoked.
const FORBIDDEN = 4403;

export class DarkroomClient {
  readonly url: string;
  private readonly token: string | undefined;
  private socket: SocketClient | undefined;

  constructor(options: ClientOptions) {
    this.url = options.url;
    this.token = options.token;
  }

  /** Send one generated query or mutation; return its data or throw DarkroomError. */
  async request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const body = JSON.stringify({ query: document.toString(), variables });
    return this.send<TResult>(body, { "Content-Type": "application/json" });
  }

  // POST one body (JSON, or a multipart form whose boundary fetch sets).
  private async send<TResult>(
    payload: string | FormData,
    headers: Record<string, string>,
  ): Promise<TResult> {
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.url, { method: "POST", headers, body: payload });
    const text = await response.text();
    let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
    try {
      body = JSON.parse(text);
    } catch {
      // Not GraphQL at all (a proxy's error page, say): no code to give.
      throw new Error(`HTTP ${response.status} from ${this.url}: ${text.slice(0, 200)}`);
    }
    // Darkroom answers refusals with HTTP 200 and `errors` (and `data: null`).
    if (body.errors?.length) throw DarkroomError.fromGraphQL(body.errors);
    if (body.data == null) throw new Error(`HTTP ${response.status} without data from ${this.url}`);
    return body.data;
  }

  /** The account behind the token, with its credits. Needs READ. */
  async me(): Promise<Me> {
    return (await this.request(MeDocument, {})).me;
  }

  /** Generation models on offer, with their limits. No token needed. */
  async models(): Promise<Model[]> {
    return (await this.request(ModelsDocument, {})).models;
  }

  /** Queue a generation (1 credit per image) and return the job. Needs GENERATE. */
  async generate(input: GenerationCreateInput, options: SubmitOptions = {}): Promise<Job> {
    const data = await this.request(GenerateDocument, { input, wait: options.wait });
    return submitted(data.generationCreate);
  }

  /** Queue a 4x upscale; `reused` when an earlier job came back at no cost. */
  async upscale(
    input: UpscaleCreateInput,
    options: SubmitOptions = {},
  ): Promise<{ job: Job; reused: boolean }> {
    const data = await this.request(UpscaleDocument, { input, wait: options.wait });
    return { job: submitted(data.upscaleCreate), reused: data.upscaleCreate.reused };
  }

  /** Cancel a job: a queued one is refunded in full, a running one in part. */
  async cancel(id: string): Promise<Job> {
    return submitted((await this.request(CancelDocument, { id })).jobCancel);
  }

  /** One of your jobs with its outputs. Needs READ. */
  async job(id: string): Promise<Job> {
    return (await this.request(JobDocument, { id })).job;
  }

  /** A page of your jobs, newest first (`first`/`after`, `where: {status, kind}`). */
  async jobs(variables: JobsQueryVariables = {}): Promise<JobPage> {
    return (await this.request(JobsDocument, variables)).jobs;
  }

  /** A page of your images, newest first unless `orderBy` says otherwise. */
  async outputs(variables: OutputsQueryVariables = {}): Promise<OutputPage> {
    return (await this.request(OutputsDocument, variables)).outputs;
  }

  /**
   * Your images ranked by relevance to `search`, or by closeness to the image
   * `similarTo`, each edge with its score; pages forwards. Needs READ.
   */
  async search(variables: SearchOutputsQueryVariables): Promise<SearchPage> {
    return (await this.request(SearchOutputsDocument, variables)).outputs;
  }

  /** The public gallery, newest first or ranked by `search`/`similarTo`. No token needed. */
  async gallery(variables: GalleryQueryVariables = {}): Promise<GalleryPage> {
    return (await this.request(GalleryDocument, variables)).gallery;
  }

  /** Any of your objects by global id; `__typename` says which. Needs READ. */
  async node(id: string): Promise<NodeResult> {
    return (await this.request(NodeDocument, { id })).node;
  }

  /**
   * Upload an input image (PNG, JPEG or WebP, at most 10 MB) as a GraphQL
   * multipart request; its id goes into `initImageId` or an upscale. Needs GENERATE.
   */
  async uploadImage(image: Blob, filename = "image.png"): Promise<Upload> {
    const form = new FormData();
    // The GraphQL multipart request spec: the operation with a null where the
    // file goes, a map from form field to that variable, then the file itself.
    form.set(
      "operations",
      JSON.stringify({ query: ImageUploadDocument.toString(), variables: { file: null } }),
    );
    form.set("map", JSON.stringify({ "0": ["variables.file"] }));
    form.set("0", image, filename);
    const data = await this.send<ImageUploadMutation>(form, {});
    return made(data.imageUpload, data.imageUpload.upload);
  }

  /** The account's API tokens, active and revoked, newest first. Needs READ. */
  async apiTokens(): Promise<ApiToken[]> {
    return (await this.request(ApiTokensDocument, {})).apiTokens;
  }

  /** Create an API token; its secret is in the answer this once. Needs MANAGE. */
  async createApiToken(input: ApiTokenCreateInput): Promise<{ apiToken: ApiToken; secret: string }> {
    const payload = (await this.request(ApiTokenCreateDocument, { input })).apiTokenCreate;
    return { apiToken: made(payload, payload.apiToken), secret: made(payload, payload.secret) };
  }

  /** Revoke an API token: refused at once, its websockets closed. Needs MANAGE. */
  async revokeApiToken(id: string): Promise<ApiToken> {
    const payload = (await this.request(ApiTokenRevokeDocument, { id })).apiTokenRevoke;
    return made(payload, payload.apiToken);
  }

  /** Your jobs with credits charged and refunded, newest first. Needs READ. */
  async usage(variables: UsageQueryVariables = {}): Promise<UsagePage> {
    return (await this.request(UsageDocument, variables)).usage;
  }

  /** Credits by source and kind, since `since` (an ISO 8601 time) or ever. Needs READ. */
  async usageTotals(since?: string): Promise<UsageSummary> {
    return (await this.request(UsageTotalsDocument, { since })).me.usageSummary;
  }

  /** Your webhook endpoints, newest first; never their secrets. Needs MANAGE. */
  async webhookEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.request(WebhookEndpointsDocument, {})).webhookEndpoints;
  }

  /** Register a URL for your jobs' events; its signing secret is in the answer this once. */
  async createWebhookEndpoint(
    input: WebhookEndpointCreateInput,
  ): Promise<{ webhookEndpoint: WebhookEndpoint; secret: string }> {
    const payload = (await this.request(WebhookEndpointCreateDocument, { input }))
      .webhookEndpointCreate;
    return {
      webhookEndpoint: made(payload, payload.webhookEndpoint),
      secret: made(payload, payload.secret),
    };
  }

  /** A new signing secret for an endpoint (the old one signs beside it for 24 hours). */
  async rotateWebhookSecret(id: string): Promise<{ webhookEndpoint: WebhookEndpoint; secret: string }> {
    const payload = (await this.request(WebhookEndpointRotateSecretDocument, { id }))
      .webhookEndpointRotateSecret;
    return {
      webhookEndpoint: made(payload, payload.webhookEndpoint),
      secret: made(payload, payload.secret),
    };
  }

  /** Stop sending to an endpoint; its deliveries stay listed. Needs MANAGE. */
  async deleteWebhookEndpoint(id: string): Promise<WebhookEndpoint> {
    const payload = (await this.request(WebhookEndpointDeleteDocument, { id }))
      .webhookEndpointDelete;
    return made(payload, payload.webhookEndpoint);
  }

  /** Webhook deliveries, newest first, with status and response code. Needs READ. */
  async webhookDeliveries(variables: WebhookDeliveriesQueryVariables = {}): Promise<DeliveryPage> {
    return (await this.request(WebhookDeliveriesDocument, variables)).webhookDeliveries;
  }

  /**
   * Follow a job live: its current state first, then every change, ending
   * after SUCCEEDED, FAILED or CANCELLED. Break out of the loop to stop early.
   * Needs GENERATE.
   */
  async *watch(jobId: string): AsyncGenerator<JobUpdate, void, undefined> {
    const results = this.socketClient().iterate<JobUpdatesSubscription>({
      query: JobUpdatesDocument.toString(),
      variables: { jobId },
    });
    // Leaving this loop early (break, return, throw) unsubscribes.
    try {
      for await (const result of results) {
        if (result.errors?.length) throw DarkroomError.fromGraphQL(result.errors);
        if (result.data) yield result.data.jobUpdates;
      }
    } catch (error) {
      throw socketError(error);
    }
  }

  /** Close the websocket, if one is open; the client stays usable. */
  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    await socket?.dispose();
  }

  // One lazy socket for every watch: it opens with the first subscription and
  // closes when the last ends, so an idle client holds no connection.
  private socketClient(): SocketClient {
    this.socket ??= createSocketClient({
      url: this.url.replace(/^http/, "ws"),
      // Node 20 has no global WebSocket; `ws` is the implementation there.
      webSocketImpl: WebSocket,
      connectionParams: this.token ? { Authorization: `Bearer ${this.token}` } : {},
      // A dropped connection is retried (the job's current state comes first on
      // resubscribing, so nothing is lost); a refused token cannot improve.
      shouldRetry: (error) => !isClose(error, FORBIDDEN),
    });
    return this.socket;
  }
}

/** A client for `url`, sending `token` on every request and websocket. */
export function createClient(options: ClientOptions): DarkroomClient {
  return new DarkroomClient(options);
}

// What a mutation payload made, or its userErrors as a DarkroomInputError.
function made<T>(payload: { userErrors: Problem[] }, value: T | null | undefined): T {
  if (payload.userErrors.length) throw new DarkroomInputError(payload.userErrors);
  if (value == null) throw new Error("the API returned neither a result nor userErrors");
  return value;
}

// A mutation payload's job, or its userErrors as a DarkroomInputError.
function submitted(payload: { job: Job | null; userErrors: Problem[] }): Job {
  return made(payload, payload.job);
}

// A websocket close event with this code (from `ws`, or any implementation).
function isClose(value: unknown, code: number): value is { code: number; reason?: string } {
  return typeof value === "object" && value !== null && "code" in value && value.code === code;
}

// graphql-ws rejects with a close event or the `error` message's GraphQL errors.
function socketError(error: unknown): Error {
  if (isClose(error, FORBIDDEN)) {
    return new DarkroomError([
      { code: "UNAUTHENTICATED", message: error.reason || "the token was refused", field: null },
    ]);
  }
  if (Array.isArray(error)) return DarkroomError.fromGraphQL(error);
  if (error instanceof Error) return error;
  const { code, reason } = (error ?? {}) as { code?: unknown; reason?: unknown };
  return new Error(`websocket closed: ${String(code)} ${String(reason ?? "")}`.trim());
}
