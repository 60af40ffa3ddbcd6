// Follow one job with the graphql-sse client (distinct connections mode), or
// show how a stream is refused; prints one JSON line for the Python test to read.
// Usage: node follow.mjs URL TOKEN JOB_ID | node follow.mjs URL BAD_TOKEN --refused
import { createClient } from "graphql-sse";

const [url, token, jobId] = process.argv.slice(2);
const UPDATES = `subscription($id: ID!) {
  jobUpdates(jobId: $id) { type status step totalSteps output { index } }
}`;

const client = createClient({
  url,
  headers: { Authorization: `Bearer ${token}` },
  retryAttempts: 0, // a refusal must surface, not be retried
});

const events = [];
try {
  const query = jobId === "--refused" ? "subscription { myJobUpdates { type } }" : UPDATES;
  for await (const result of client.iterate({ query, variables: { id: jobId } })) {
    events.push(result);
  }
  console.log(JSON.stringify({ events }));
} catch (err) {
  const response = err?.response;
  const body = response ? await response.text() : null;
  console.log(JSON.stringify({ events, error: String(err), status: response?.status ?? null, body }));
} finally {
  client.dispose();
}
