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
  CancelDocument,
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
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document.toString(), variables }),
    });
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

// A mutation payload's job, or its userErrors as a DarkroomInputError.
function submitted(payload: { job: Job | null; userErrors: Problem[] }): Job {
  if (payload.userErrors.length) throw new DarkroomInputError(payload.userErrors);
  if (!payload.job) throw new Error("the API returned neither a job nor userErrors");
  return payload.job;
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
