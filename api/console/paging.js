// Relay connection paging for grids and tables: the first page, then more as
// a sentinel scrolls into view (or its button is pressed).
import { html, useEffect, useRef, useState } from "./ui.js";
import { gql } from "./gql.js";

// `pick` takes the connection out of the response; `variables` restart the list
// when they change (a filter, a search).
export function useConnection(query, variables, pick, first = 24) {
  const [items, setItems] = useState([]);
  const [page, setPage] = useState({ hasNextPage: false, endCursor: null });
  const [total, setTotal] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);
  const key = JSON.stringify(variables);
  const load = async (after, fresh) => {
    const mine = generation.current;
    setLoading(true);
    try {
      const data = await gql(query, { ...variables, first, after });
      if (mine !== generation.current) return; // the filters changed meanwhile
      const connection = pick(data);
      const nodes = connection.edges.map((e) => e.node);
      setItems((current) => (fresh ? nodes : [...current, ...nodes]));
      setPage(connection.pageInfo);
      setTotal(connection.totalCount);
      setError(null);
    } catch (failure) {
      if (mine === generation.current) setError(failure);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => {
    generation.current += 1;
    setItems([]);
    load(null, true);
  }, [key]);
  const more = () => {
    if (page.hasNextPage && !loading) load(page.endCursor, false);
  };
  const replace = (id, next) =>
    setItems((current) =>
      next === null ? current.filter((i) => i.id !== id) : current.map((i) => (i.id === id ? next : i)),
    );
  return { items, total, error, loading, hasMore: page.hasNextPage, more, replace };
}

export function LoadMore({ list }) {
  const sentinel = useRef(null);
  useEffect(() => {
    if (!sentinel.current || !("IntersectionObserver" in window)) return undefined;
    const watcher = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) list.more();
    });
    watcher.observe(sentinel.current);
    return () => watcher.disconnect();
  });
  if (!list.hasMore) return null;
  return html`<div ref=${sentinel} class="more">
    <button id="load-more" disabled=${list.loading} onClick=${list.more}>
      ${list.loading ? "Loading..." : "Load more"}
    </button>
  </div>`;
}
