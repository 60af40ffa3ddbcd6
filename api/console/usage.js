// Usage: credits spent per day over the last 30 days, stacked by source, and
// the usage table with its filters and cursor paging.
import { html, useEffect, useRef, useState, when, Problem } from "./ui.js";
import { gql } from "./gql.js";
import { useConnection, LoadMore } from "./paging.js";
import uPlot from "./vendor/uPlot.esm.js";

const SOURCES = ["API", "CLI", "WEB"];
const COLORS = { API: "#4c78a8", CLI: "#f58518", WEB: "#54a24b" };
const DAYS = 30;
const USAGE = `query ConsoleUsage($first: Int, $after: String, $where: UsageWhere) {
  usage(first: $first, after: $after, where: $where) {
    edges { node { kind jobId status source tokenPreview charged refunded net createdAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;
// The server sums the days (one GROUP BY), whatever the number of jobs.
const DAILY = `query ConsoleUsageDaily($days: Int!) {
  me { usageDaily(days: $days) { day source jobs net } }
}`;

// Net credits per UTC day and source, days without jobs as zeros:
// { days: [seconds], API: [...], ... }.
export function bucket(rows, today = new Date()) {
  const last = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const days = [];
  for (let i = DAYS - 1; i >= 0; i--) days.push(last - i * 86400000);
  const sums = Object.fromEntries(SOURCES.map((s) => [s, days.map(() => 0)]));
  for (const r of rows) {
    const i = days.indexOf(Date.parse(`${r.day}T00:00:00Z`));
    if (i >= 0 && sums[r.source]) sums[r.source][i] += r.net;
  }
  return { days: days.map((d) => d / 1000), ...sums };
}

async function lastMonth() {
  return (await gql(DAILY, { days: DAYS })).me.usageDaily;
}

function Chart({ buckets }) {
  const box = useRef(null);
  useEffect(() => {
    if (!document.querySelector('link[data-uplot]')) {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/console/static/vendor/uPlot.min.css";
      css.dataset.uplot = "1";
      document.head.appendChild(css);
    }
    // Stacked bars: each series draws its running total, tallest first, so
    // the ones after it paint their share over its lower part.
    const order = [...SOURCES].reverse();
    const stacked = order.map((_, i) =>
      buckets.days.map((_, d) => order.slice(i).reduce((sum, s) => sum + buckets[s][d], 0)),
    );
    const bars = uPlot.paths.bars({ size: [0.7, 40] });
    const plot = new uPlot(
      {
        width: Math.min(900, box.current.clientWidth || 900),
        height: 240,
        scales: { x: { time: true } },
        axes: [{}, { label: "credits" }],
        series: [
          {},
          ...order.map((s, i) => ({
            label: s,
            fill: COLORS[s],
            stroke: COLORS[s],
            paths: bars,
            points: { show: false },
            value: (u, v, si, di) => (di == null ? "-" : buckets[s][di]),
          })),
        ],
      },
      [buckets.days, ...stacked],
      box.current,
    );
    return () => plot.destroy();
  }, [buckets]);
  return html`<div ref=${box} id="usage-chart" class="chart"></div>`;
}

export function UsagePage() {
  const [month, setMonth] = useState(null);
  const [chartError, setChartError] = useState(null);
  const [filters, setFilters] = useState({ kind: "", source: "" });
  useEffect(() => {
    lastMonth().then(setMonth, setChartError);
  }, []);
  const where = {};
  if (filters.kind) where.kind = [filters.kind];
  if (filters.source) where.source = [filters.source];
  const list = useConnection(USAGE, { where }, (d) => d.usage, 25);
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.target.value });
  const total = month ? month.reduce((sum, r) => sum + r.net, 0) : null;
  const jobs = month ? month.reduce((sum, r) => sum + r.jobs, 0) : null;
  return html`<section class="card">
      <h1>Usage</h1>
      <h2>Credits per UTC day, last ${DAYS} days</h2>
      <${Problem} error=${chartError} />
      ${month
        ? html`<p id="usage-total">${total} credits in ${jobs} jobs (UTC days)</p>
          <${Chart} buckets=${bucket(month)} />`
        : html`<p class="loading">Loading...</p>`}
    </section>
    <section class="card">
      <form class="inline filters">
        <select id="usage-kind" value=${filters.kind} onChange=${set("kind")}>
          <option value="">Any kind</option><option>GENERATE</option><option>UPSCALE</option></select>
        <select id="usage-source" value=${filters.source} onChange=${set("source")}>
          <option value="">Any source</option>${SOURCES.map((s) => html`<option>${s}</option>`)}</select>
      </form>
      <${Problem} error=${list.error} />
      <table id="usage">
        <thead><tr><th>When</th><th>Kind</th><th>Source</th><th>Token</th><th>Status</th>
          <th>Charged</th><th>Refunded</th><th>Net</th></tr></thead>
        <tbody>
          ${list.items.map(
            (e) => html`<tr data-source=${e.source}>
              <td>${when(e.createdAt)}</td><td>${e.kind}</td><td>${e.source}</td>
              <td>${e.tokenPreview || "-"}</td><td>${e.status}</td><td class="num">${e.charged}</td>
              <td class="num">${e.refunded}</td><td class="num">${e.net}</td></tr>`,
          )}
        </tbody>
      </table>
      <p>${list.total === null ? "" : `${list.items.length} of ${list.total} jobs`}</p>
      <${LoadMore} list=${list} />
    </section>`;
}
