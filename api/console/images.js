// Images: the account's outputs with history filters and search, more loaded
// as you scroll; one opens with its parameters and seed, to favorite, publish,
// delete, upscale or download.
import { html, useState, when, Problem } from "./ui.js";
import { gql } from "./gql.js";
import { useConnection, LoadMore } from "./paging.js";

const FIELDS = `id index width height seed format isFavorite isPublic isUpscaled galleryStatus
  createdAt imageUrl jobId generation { prompt negativePrompt modelId schedulerId
  inferenceSteps guidanceScale }`;
const OUTPUTS = `query ConsoleOutputs($first: Int, $after: String, $where: OutputWhere, $search: String) {
  outputs(first: $first, after: $after, where: $where, search: $search) {
    edges { node { ${FIELDS} } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;
const UPDATE = `mutation ConsoleOutputUpdate($ids: [ID!]!, $input: OutputsUpdateInput!) {
  outputsUpdate(ids: $ids, input: $input) { outputs { ${FIELDS} } userErrors { message } }
}`;
const DELETE = `mutation ConsoleOutputDelete($ids: [ID!]!) {
  outputsDelete(ids: $ids) { deletedIds userErrors { message } }
}`;
const UPSCALE = `mutation ConsoleUpscale($input: UpscaleCreateInput!) {
  upscaleCreate(input: $input) { job { id status } reused userErrors { message } }
}`;

function whereOf(filters) {
  const where = {};
  if (filters.favorites) where.isFavorite = { _eq: true };
  if (filters.visibility) where.isPublic = { _eq: filters.visibility === "public" };
  if (filters.source) where.source = { _eq: filters.source };
  if (filters.upscaled) where.isUpscaled = { _eq: filters.upscaled === "yes" };
  return Object.keys(where).length ? where : null;
}

function Detail({ output, onChange, onClose }) {
  const [note, setNote] = useState(null);
  const g = output.generation;
  const act = async (work) => {
    try {
      setNote(await work());
    } catch (failure) {
      setNote(failure.message);
    }
  };
  const update = (input) =>
    act(async () => {
      const r = (await gql(UPDATE, { ids: [output.id], input })).outputsUpdate;
      if (r.userErrors.length) return r.userErrors[0].message;
      onChange(r.outputs[0]);
      return "Saved.";
    });
  const remove = () =>
    act(async () => {
      const r = (await gql(DELETE, { ids: [output.id] })).outputsDelete;
      if (r.userErrors.length) return r.userErrors[0].message;
      onChange(null);
      return null;
    });
  const upscale = () =>
    act(async () => {
      const r = (await gql(UPSCALE, { input: { outputId: output.id } })).upscaleCreate;
      if (r.userErrors.length) return r.userErrors[0].message;
      return r.reused ? "Already upscaled: see the filter." : `Upscale queued (${r.job.status}).`;
    });
  return html`<aside class="card detail" id="output-detail">
    <button class="link close" onClick=${onClose}>Close</button>
    <img src=${output.imageUrl} alt=${g.prompt} />
    <dl class="facts">
      <dt>Prompt</dt><dd id="detail-prompt">${g.prompt}</dd>
      ${g.negativePrompt ? html`<dt>Negative</dt><dd>${g.negativePrompt}</dd>` : null}
      <dt>Model</dt><dd>${g.modelId}</dd>
      <dt>Scheduler</dt><dd>${g.schedulerId || "-"}</dd>
      <dt>Steps</dt><dd>${g.inferenceSteps ?? "-"}</dd>
      <dt>Guidance</dt><dd>${g.guidanceScale ?? "-"}</dd>
      <dt>Seed</dt><dd id="detail-seed">${output.seed ?? "-"}</dd>
      <dt>Size</dt><dd>${output.width} x ${output.height}</dd>
      <dt>Created</dt><dd>${when(output.createdAt)}</dd>
      <dt>Gallery</dt><dd>${output.galleryStatus}</dd>
    </dl>
    <div class="actions">
      <button id="detail-favorite" onClick=${() => update({ isFavorite: !output.isFavorite })}>
        ${output.isFavorite ? "Unfavorite" : "Favorite"}</button>
      <button id="detail-public" onClick=${() => update({ isPublic: !output.isPublic })}>
        ${output.isPublic ? "Make private" : "Make public"}</button>
      ${output.isUpscaled ? null : html`<button id="detail-upscale" onClick=${upscale}>Upscale 4x</button>`}
      <a class="button" id="detail-download" href=${output.imageUrl}
        download=${`darkroom-${output.seed ?? output.id}.${output.format || "png"}`}>Download</a>
      <button id="detail-delete" class="danger" onClick=${remove}>Delete</button>
    </div>
    ${note ? html`<p class="note">${note}</p>` : null}
  </aside>`;
}

export function ImagesPage() {
  const [filters, setFilters] = useState({ favorites: false, visibility: "", source: "", upscaled: "" });
  const [search, setSearch] = useState("");
  const [typed, setTyped] = useState("");
  const [open, setOpen] = useState(null);
  const variables = { where: whereOf(filters), search: search || null };
  const list = useConnection(OUTPUTS, variables, (d) => d.outputs);
  const set = (key) => (e) =>
    setFilters({ ...filters, [key]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const changed = (next) => {
    list.replace(open.id, next);
    setOpen(next);
  };
  return html`<section class="card">
      <h1>Images</h1>
      <form class="inline filters" onSubmit=${(e) => { e.preventDefault(); setSearch(typed.trim()); }}>
        <input id="images-search" type="search" placeholder="Search prompts" value=${typed}
          onInput=${(e) => setTyped(e.target.value)} />
        <button type="submit">Search</button>
        <label class="check"><input type="checkbox" id="filter-favorites" checked=${filters.favorites}
          onChange=${set("favorites")} />Favorites</label>
        <select id="filter-visibility" value=${filters.visibility} onChange=${set("visibility")}>
          <option value="">Public and private</option><option value="public">Public</option>
          <option value="private">Private</option></select>
        <select id="filter-source" value=${filters.source} onChange=${set("source")}>
          <option value="">Any source</option><option>API</option><option>CLI</option><option>WEB</option></select>
        <select id="filter-upscaled" value=${filters.upscaled} onChange=${set("upscaled")}>
          <option value="">Any size</option><option value="yes">Upscaled</option>
          <option value="no">Not upscaled</option></select>
      </form>
      <p id="images-count">${list.total === null ? "" : `${list.total} images`}</p>
      <${Problem} error=${list.error} />
      <div class="grid" id="images">
        ${list.items.map(
          (o) => html`<button class="tile" data-id=${o.id} onClick=${() => setOpen(o)}>
            <img src=${o.imageUrl} width=${o.width} height=${o.height} loading="lazy" alt=${o.generation.prompt} />
            <span>${o.isFavorite ? "\u2605 " : ""}${o.generation.prompt}</span></button>`,
        )}
      </div>
      <${LoadMore} list=${list} />
    </section>
    ${open ? html`<${Detail} output=${open} onChange=${changed} onClose=${() => setOpen(null)} />` : null}`;
}
