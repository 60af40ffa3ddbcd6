// @darkroom/client: a typed client for the Darkroom GraphQL API.
export {
  type ClientOptions,
  createClient,
  DarkroomClient,
  type Job,
  type JobPage,
  type JobUpdate,
  type Me,
  type Model,
  type Output,
  type OutputPage,
  type SubmitOptions,
} from "./client.js";
export { DarkroomError, DarkroomInputError, type Problem } from "./errors.js";
// Every input, enum and operation type, and the documents `request` sends.
export * from "./generated/graphql.js";
