// Webhooks: endpoints (create with the secret shown once, rotate, delete) and
// their deliveries with status and response code.
import { html, useEffect, useState, when, errorsByField, FieldError, Problem, copyText } from "./ui.js";
import { gql } from "./gql.js";
import { useConnection, LoadMore } from "./paging.js";

const EVENTS = ["JOB_STARTED", "JOB_OUTPUT", "JOB_SUCCEEDED", "JOB_FAILED", "JOB_CANCELLED", "JOB_PROGRESS"];
const ENDPOINT = "id url events isActive createdAt";
const LIST = `query ConsoleWebhooks { webhookEndpoints { ${ENDPOINT} } }`;
const CREATE = `mutation ConsoleWebhookCreate($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) { secret webhookEndpoint { ${ENDPOINT} } userErrors { field code message } }
}`;
const ROTATE = `mutation ConsoleWebhookRotate($id: ID!) {
  webhookEndpointRotateSecret(id: $id) { secret userErrors { field code message } }
}`;
const DELETE = `mutation ConsoleWebhookDelete($id: ID!) {
  webhookEndpointDelete(id: $id) { userErrors { field code message } }
}`;
const DELIVERIES = `query ConsoleDeliveries($first: Int, $after: String) {
  webhookDeliveries(first: $first, after: $after) {
    edges { node { id endpointId event status attempts maxAttempts responseCode lastError
      lastAttemptAt createdAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export function WebhooksPage() {
  const [endpoints, setEndpoints] = useState(null);
  const [error, setError] = useState(null);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState(new Set(["JOB_SUCCEEDED", "JOB_FAILED"]));
  const [errors, setErrors] = useState({});
  const [secret, setSecret] = useState(null);
  const deliveries = useConnection(DELIVERIES, {}, (d) => d.webhookDeliveries, 25);
  const load = () => gql(LIST).then((d) => setEndpoints(d.webhookEndpoints), setError);
  useEffect(() => {
    load();
  }, []);
  const toggle = (event) => {
    const next = new Set(events);
    next.has(event) ? next.delete(event) : next.add(event);
    setEvents(next);
  };
  const create = async (e) => {
    e.preventDefault();
    setErrors({});
    const result = (await gql(CREATE, { input: { url, events: [...events] } })).webhookEndpointCreate;
    if (result.userErrors.length) return setErrors(errorsByField(result.userErrors));
    setSecret(result.secret);
    setUrl("");
    load();
  };
  const rotate = async (endpoint) => {
    const result = (await gql(ROTATE, { id: endpoint.id })).webhookEndpointRotateSecret;
    if (result.userErrors.length) return setError(new Error(result.userErrors[0].message));
    setSecret(result.secret);
  };
  const remove = async (endpoint) => {
    const result = (await gql(DELETE, { id: endpoint.id })).webhookEndpointDelete;
    if (result.userErrors.length) setError(new Error(result.userErrors[0].message));
    load();
  };
  return html`<section class="card">
      <h1>Webhooks</h1>
      <${Problem} error=${error} />
      ${secret
        ? html`<div class="secret" id="webhook-secret"><p><strong>The signing secret, shown once:</strong></p>
            <code>${secret}</code> <button onClick=${() => copyText(secret)}>Copy</button>
            <button class="link" onClick=${() => setSecret(null)}>Done</button></div>`
        : null}
      <form id="webhook-form" class="stack" onSubmit=${create}>
        <label>URL <input id="webhook-url" type="url" value=${url} placeholder="https://example.com/hooks"
          onInput=${(e) => setUrl(e.target.value)} /><${FieldError} errors=${errors} name="url" /></label>
        <fieldset><legend>Events</legend>
          ${EVENTS.map(
            (ev) => html`<label class="check"><input type="checkbox" checked=${events.has(ev)}
              onChange=${() => toggle(ev)} />${ev}</label>`,
          )}
        </fieldset>
        <${FieldError} errors=${errors} name="events" />
        <button type="submit" id="webhook-create">Add endpoint</button>
      </form>
      <table id="endpoints">
        <thead><tr><th>URL</th><th>Events</th><th>Added</th><th></th></tr></thead>
        <tbody>
          ${(endpoints || []).map(
            (ep) => html`<tr><td>${ep.url}</td><td>${ep.events.join(", ")}</td><td>${when(ep.createdAt)}</td>
              <td><button onClick=${() => rotate(ep)}>Rotate secret</button>
                <button class="danger" onClick=${() => remove(ep)}>Delete</button></td></tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section class="card">
      <h2>Deliveries</h2>
      <${Problem} error=${deliveries.error} />
      <table id="deliveries">
        <thead><tr><th>When</th><th>Event</th><th>Status</th><th>Attempts</th><th>Response</th><th>Error</th></tr></thead>
        <tbody>
          ${deliveries.items.map(
            (d) => html`<tr><td>${when(d.createdAt)}</td><td>${d.event}</td><td>${d.status}</td>
              <td class="num">${d.attempts}/${d.maxAttempts}</td><td>${d.responseCode ?? "-"}</td>
              <td>${d.lastError || ""}</td></tr>`,
          )}
        </tbody>
      </table>
      <${LoadMore} list=${deliveries} />
    </section>`;
}
