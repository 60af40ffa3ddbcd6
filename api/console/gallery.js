// Gallery: the public, approved images; readable without signing in.
import { html, useState, when, Problem } from "./ui.js";
import { useConnection, LoadMore } from "./paging.js";

const GALLERY = `query ConsoleGallery($first: Int, $after: String, $search: String) {
  gallery(first: $first, after: $after, search: $search) {
    edges { node { id url width height seed createdAt author { handle }
      generation { prompt modelId } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export function GalleryPage() {
  const [search, setSearch] = useState("");
  const [typed, setTyped] = useState("");
  const list = useConnection(GALLERY, { search: search || null }, (d) => d.gallery);
  return html`<section class="card">
      <h1>Gallery</h1>
      <form class="inline" onSubmit=${(e) => { e.preventDefault(); setSearch(typed.trim()); }}>
        <input id="gallery-search" type="search" placeholder="Search prompts" value=${typed}
          onInput=${(e) => setTyped(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      <p id="gallery-count">${list.total === null ? "" : `${list.total} public images`}</p>
      <${Problem} error=${list.error} />
      <div class="grid" id="gallery">
        ${list.items.map(
          (img) => html`<figure class="tile" data-id=${img.id}>
            <a href=${img.url} target="_blank" rel="noopener">
              <img src=${img.url} width=${img.width} height=${img.height} loading="lazy"
                alt=${img.generation.prompt} /></a>
            <figcaption>${img.generation.prompt}<br />
              <small>${img.author.handle} - ${when(img.createdAt)}</small></figcaption>
          </figure>`,
        )}
      </div>
      <${LoadMore} list=${list} />
    </section>`;
}
