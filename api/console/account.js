// Account: who is signed in, the plan, and the credits by ledger row.
import { html, useEffect, useState, when, Problem } from "./ui.js";
import { gql } from "./gql.js";

const ACCOUNT = `query ConsoleAccount {
  me {
    email tier parallelLimit createdAt
    credits { total upcoming nextFreeTopUpAt
      rows { type amount remaining startsAt expiresAt } }
  }
}`;

export function AccountPage() {
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    gql(ACCOUNT).then((data) => setMe(data.me), setError);
  }, []);
  if (error) return html`<${Problem} error=${error} />`;
  if (!me) return html`<p class="loading">Loading...</p>`;
  const credits = me.credits;
  return html`<section class="card" id="account">
      <h1>Account</h1>
      <dl class="facts">
        <dt>Email</dt><dd id="account-email">${me.email}</dd>
        <dt>Tier</dt><dd id="account-tier">${me.tier}</dd>
        <dt>Parallel jobs</dt><dd id="account-parallel">${me.parallelLimit}</dd>
        <dt>Member since</dt><dd>${when(me.createdAt)}</dd>
        <dt>Credits</dt><dd id="account-credits">${credits.total}</dd>
        ${credits.upcoming
          ? html`<dt>Upcoming</dt><dd>${credits.upcoming}</dd>`
          : null}
        ${credits.nextFreeTopUpAt
          ? html`<dt>Next free top-up</dt><dd>${when(credits.nextFreeTopUpAt)}</dd>`
          : null}
      </dl>
    </section>
    <section class="card">
      <h2>Credits by row</h2>
      <table id="credit-rows">
        <thead><tr><th>Type</th><th>Amount</th><th>Remaining</th><th>From</th><th>Expires</th></tr></thead>
        <tbody>
          ${credits.rows.map(
            (row) => html`<tr>
              <td>${row.type}</td><td class="num">${row.amount}</td>
              <td class="num">${row.remaining}</td><td>${when(row.startsAt)}</td>
              <td>${row.expiresAt ? when(row.expiresAt) : "never"}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </section>`;
}
