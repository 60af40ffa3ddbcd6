// @darkroom/client: a typed client for the Darkroom GraphQL API.
export {
  type ApiToken,
  type ClientOptions,
  createClient,
  DarkroomClient,
  type DeliveryPage,
  type GalleryPage,
  type Job,
  type JobPage,
  type JobUpdate,
  type Me,
  type Model,
  type NodeResult,
  type Output,
  type OutputPage,
  type SearchPage,
  type SubmitOptions,
  type Upload,
  type UsagePage,
  type UsageSummary,
  type WebhookEndpoint,
} from "./client.js";
export { DarkroomError, DarkroomInputError, type Problem } from "./errors.js";
// Every input, enum and operation type, and the documents `request` sends.
export * from "./generated/graphql.js";
