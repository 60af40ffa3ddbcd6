// The console's entry: a small router over /console/<page>, the navigation,
// and the signed-out view. Each page is its own module.
import { html, render, useEffect, useState } from "./ui.js";
import { signedIn, signOut } from "./gql.js";
import { AccountPage } from "./account.js";
import { UsagePage } from "./usage.js";
import { TokensPage } from "./tokens.js";
import { ImagesPage } from "./images.js";
import { GeneratePage } from "./generate.js";
import { WebhooksPage } from "./webhooks.js";
import { GalleryPage } from "./gallery.js";

const PAGES = [
  ["account", "Account", AccountPage],
  ["usage", "Usage", UsagePage],
  ["tokens", "API tokens", TokensPage],
  ["images", "Images", ImagesPage],
  ["generate", "Generate", GeneratePage],
  ["webhooks", "Webhooks", WebhooksPage],
  ["gallery", "Gallery", GalleryPage],
];
const PUBLIC = new Set(["gallery"]);

function currentPage() {
  const name = location.pathname.replace(/^\/console\/?/, "").split("/")[0];
  if (PAGES.some(([key]) => key === name)) return name;
  return signedIn ? "account" : "gallery";
}

export function go(name) {
  history.pushState({}, "", `/console/${name}`);
  dispatchEvent(new PopStateEvent("popstate"));
}

function SignedOut() {
  return html`<section class="card" id="signed-out">
    <h1>Sign in</h1>
    <p>The console signs in with a one-time link, not a password. On the
      server, run <code>darkroom console-link YOUR-EMAIL</code> and open the
      link it prints (it works once, for 15 minutes). The first start of
      <code>darkroom serve</code> prints one for the local account.</p>
    <p>The <a href="/console/gallery">public gallery</a> needs no sign-in.</p>
  </section>`;
}

function App() {
  const [page, setPage] = useState(currentPage());
  useEffect(() => {
    const follow = () => setPage(currentPage());
    addEventListener("popstate", follow);
    return () => removeEventListener("popstate", follow);
  }, []);
  const [, title, Page] = PAGES.find(([key]) => key === page);
  document.title = `${title} - Darkroom`;
  const nav = PAGES.filter(([key]) => signedIn || PUBLIC.has(key));
  const click = (event, key) => {
    if (event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    go(key);
  };
  return html`
    <header class="top">
      <a class="brand" href="/console/" onClick=${(e) => click(e, signedIn ? "account" : "gallery")}>Darkroom</a>
      <nav>
        ${nav.map(
          ([key, label]) => html`<a
            href=${`/console/${key}`}
            class=${key === page ? "active" : ""}
            data-page=${key}
            onClick=${(e) => click(e, key)}
            >${label}</a
          >`,
        )}
      </nav>
      ${signedIn
        ? html`<span class="session">
            <button class="link" id="sign-out" onClick=${() => signOut(false)}>Sign out</button>
            <button class="link" id="sign-out-everywhere" onClick=${() => signOut(true)}>
              Sign out everywhere
            </button>
          </span>`
        : html`<a class="session" href="/console/account">Sign in</a>`}
    </header>
    <main id="page" data-page=${page}>
      ${signedIn || PUBLIC.has(page) ? html`<${Page} />` : html`<${SignedOut} />`}
    </main>
  `;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading" line the server put there
render(html`<${App} />`, root);
