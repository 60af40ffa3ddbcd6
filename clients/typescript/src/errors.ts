// The two ways the API refuses a request, as errors to catch and branch on.
import type { ErrorCode, UserErrorFieldsFragment } from "./generated/graphql.js";

/** One problem: a stable code, a message, and the path to the input at fault. */
export type Problem = UserErrorFieldsFragment;

/** A GraphQL error as it arrives over HTTP or a websocket. */
export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: unknown; field?: unknown } | null;
}

/**
 * The API refused the request. `code` is the first problem's code; `errors`
 * holds every problem (several inputs can be wrong at once).
 */
export class DarkroomError extends Error {
  readonly code: ErrorCode;
  readonly errors: Problem[];

  constructor(errors: Problem[]) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join("; "));
    this.name = new.target.name;
    this.errors = errors;
    // The API gives every refusal a code; INTERNAL stands in if one had none.
    this.code = errors[0]?.code ?? "INTERNAL";
  }

  /** A top-level refusal from a response's `errors` (bad token, scope, id...). */
  static fromGraphQL(errors: readonly GraphQLErrorBody[]): DarkroomError {
    return new DarkroomError(
      errors.map((e) => ({
        // A server newer than this client may send a code added since; it
        // arrives as the server's string all the same.
        code: (typeof e.extensions?.code === "string"
          ? e.extensions.code
          : "INTERNAL") as ErrorCode,
        message: e.message,
        field: Array.isArray(e.extensions?.field)
          ? e.extensions.field.map(String)
          : null,
      })),
    );
  }
}

/**
 * A mutation's `userErrors`: input the caller can fix (a bad size, an unknown
 * model, too few credits). Nothing was submitted and nothing was charged.
 */
export class DarkroomInputError extends DarkroomError {}
