// API tokens: list, create with scopes (the secret shown once), revoke.
import { html, useEffect, useState, when, errorsByField, FieldError, Problem, copyText } from "./ui.js";
import { gql } from "./gql.js";

const SCOPES = ["GENERATE", "READ", "MANAGE"];
const FIELDS = "id name preview scopes isActive createdAt revokedAt lastUsedAt uses creditsSpent";
// The limit of active tokens is the server's setting (me.tokenLimit); creating
// past it is refused with TOO_MANY_TOKENS.
const LIST = `query ConsoleTokens { me { tokenLimit } apiTokens { ${FIELDS} } }`;
const CREATE = `mutation ConsoleTokenCreate($input: ApiTokenCreateInput!) {
  apiTokenCreate(input: $input) { secret apiToken { ${FIELDS} } userErrors { field code message } }
}`;
const REVOKE = `mutation ConsoleTokenRevoke($id: ID!) {
  apiTokenRevoke(id: $id) { apiToken { ${FIELDS} } userErrors { field code message } }
}`;

function Secret({ secret, onDone }) {
  const [copied, setCopied] = useState(false);
  return html`<div class="secret" id="new-secret">
    <p><strong>Copy this secret now: it is shown once.</strong></p>
    <code id="secret-value">${secret}</code>
    <button id="copy-secret" onClick=${() => copyText(secret).then(() => setCopied(true), () => setCopied(false))}>
      ${copied ? "Copied" : "Copy"}
    </button>
    <button class="link" onClick=${onDone}>Done</button>
  </div>`;
}

export function TokensPage() {
  const [tokens, setTokens] = useState(null);
  const [limit, setLimit] = useState(null);
  const [error, setError] = useState(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(new Set(["GENERATE", "READ"]));
  const [errors, setErrors] = useState({});
  const [secret, setSecret] = useState(null);
  // A second click confirms a revocation: a revoked token cannot come back.
  const [confirming, setConfirming] = useState(null);
  const load = () =>
    gql(LIST).then((d) => {
      setLimit(d.me.tokenLimit);
      setTokens(d.apiTokens);
    }, setError);
  useEffect(() => {
    load();
  }, []);
  if (error) return html`<${Problem} error=${error} />`;
  if (!tokens) return html`<p class="loading">Loading...</p>`;
  const active = tokens.filter((t) => t.isActive).length;
  const full = active >= limit;
  const toggle = (scope) => {
    const next = new Set(scopes);
    next.has(scope) ? next.delete(scope) : next.add(scope);
    setScopes(next);
  };
  const create = async (event) => {
    event.preventDefault();
    setErrors({});
    try {
      const input = { name: name || null, scopes: [...scopes] };
      const result = (await gql(CREATE, { input })).apiTokenCreate;
      if (result.userErrors.length) {
        setErrors(errorsByField(result.userErrors));
        return;
      }
      setSecret(result.secret);
      setName("");
      await load();
    } catch (failure) {
      setErrors({ _: [failure.message] });
    }
  };
  const revoke = async (token) => {
    if (confirming !== token.id) return setConfirming(token.id);
    setConfirming(null);
    const result = (await gql(REVOKE, { id: token.id })).apiTokenRevoke;
    if (result.userErrors.length) setError(new Error(result.userErrors[0].message));
    await load();
  };
  return html`<section class="card">
      <h1>API tokens</h1>
      <p id="token-count" class=${full ? "warning" : ""}>
        ${active} of ${limit} active tokens${full ? ": revoke one to create another" : ""}.
      </p>
      ${secret ? html`<${Secret} secret=${secret} onDone=${() => setSecret(null)} />` : null}
      <form id="token-form" class="inline" onSubmit=${create}>
        <label>Name <input id="token-name" maxlength="50" value=${name}
          onInput=${(e) => setName(e.target.value)} placeholder="Secret key" /></label>
        <${FieldError} errors=${errors} name="name" />
        <fieldset><legend>Scopes</legend>
          ${SCOPES.map(
            (scope) => html`<label class="check"><input type="checkbox" name="scope" value=${scope}
              checked=${scopes.has(scope)} onChange=${() => toggle(scope)} />${scope}</label>`,
          )}
        </fieldset>
        <${FieldError} errors=${errors} name="scopes" />
        <button type="submit" id="token-create" disabled=${full}>Create token</button>
        <${FieldError} errors=${errors} name="_" />
      </form>
    </section>
    <section class="card">
      <table id="tokens">
        <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Last used</th><th>Uses</th><th></th></tr></thead>
        <tbody>
          ${tokens.map(
            (t) => html`<tr class=${t.isActive ? "" : "revoked"} data-token=${t.name}>
              <td>${t.name}</td><td><code>${t.preview}</code></td>
              <td>${t.scopes.join(", ")}</td><td>${when(t.lastUsedAt)}</td>
              <td class="num">${t.uses}</td>
              <td>${t.isActive
                ? html`<button class="revoke" onClick=${() => revoke(t)}>
                    ${confirming === t.id ? "Really revoke? Programs using it stop" : "Revoke"}
                  </button>`
                : html`revoked ${when(t.revokedAt)}`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
}
