// Starts GraphiQL with Darkroom's settings. It is a file, not an inline
// script, because the page's Content-Security-Policy allows only 'self'.
(function () {
  "use strict";

  const config = JSON.parse(
    document.getElementById("darkroom-graphiql").textContent,
  );
  // GraphiQL's dialogs add a <style> element; react-style-singleton gives it
  // this nonce, which the page's Content-Security-Policy allows.
  window.__webpack_nonce__ = config.styleNonce;

  const url = new URL(config.path, window.location.href);
  url.search = "";
  url.hash = "";
  const socket = new URL(url);
  socket.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  // Queries and mutations go over HTTP POST; subscriptions over
  // graphql-transport-ws (graphiql's bundled graphql-ws client). The fetcher
  // merges the Headers tab into connection_init, where Darkroom reads the
  // Authorization value, and opens one socket per subscription, so a changed
  // token takes effect on the next run.
  const fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: socket.href,
    // Darkroom has no @defer or @stream: plain JSON responses, no multipart.
    enableIncrementalDelivery: false,
  });

  const headers = JSON.stringify(config.headers, null, 2);
  const tabs = config.tabs.map(function (tab) {
    return { query: tab.query, variables: tab.variables, headers: headers };
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultTabs: tabs,
      defaultHeaders: headers,
      // The token is the first thing to fill in, so open the Headers tab.
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
    }),
  );
})();
