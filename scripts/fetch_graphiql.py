"""Vendor GraphiQL, React and the explorer plugin into api/graphiql/vendor/.

Darkroom serves GraphiQL from its own package so the page works offline and
loads nothing from a CDN. scripts/vendoring.py downloads the versions pinned
below from npm, verifies each tarball, copies the browser builds out byte for
byte and writes graphiql.lock.json.

    python scripts/fetch_graphiql.py            # fetch the pins, rewrite the lock
    python scripts/fetch_graphiql.py --check    # offline: files match the lock

Why GraphiQL 4.1: it is the last major that ships a UMD build (graphiql.min.js),
which runs from plain <script> tags without a bundler. It bundles graphql-js 16,
@graphiql/react and toolkit, CodeMirror 5 and the graphql-ws client that
createGraphiQLFetcher uses for subscriptionUrl, so those need no files of their
own; the explorer plugin's UMD reads React and GraphiQL's exports from globals.
GraphiQL 5 is ESM-only on Monaco (web workers, several MB) and would need a
bundler step. React stays on 18: React 19 dropped its UMD builds.
"""

from vendoring import ROOT, Vendoring, main

# package, version, {file in the tarball: name under vendor/}
PINS: list[tuple[str, str, dict[str, str]]] = [
    (
        "react",
        "18.3.1",
        {
            "package/umd/react.production.min.js": "react.production.min.js",
            "package/LICENSE": "LICENSE.react",
        },
    ),
    (
        "react-dom",
        "18.3.1",
        {
            "package/umd/react-dom.production.min.js": "react-dom.production.min.js",
            "package/LICENSE": "LICENSE.react-dom",
        },
    ),
    (
        "graphiql",
        "4.1.2",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
            "package/LICENSE": "LICENSE.graphiql",
        },
    ),
    (
        # No LICENSE file in its tarball; the lock records its MIT licence.
        "@graphiql/plugin-explorer",
        "4.0.6",
        {
            "package/dist/index.umd.js": "plugin-explorer.umd.js",
            "package/dist/style.css": "plugin-explorer.css",
        },
    ),
]

VENDORING = Vendoring(
    label="GraphiQL",
    folder=ROOT / "api" / "graphiql" / "vendor",
    lock=ROOT / "scripts" / "graphiql.lock.json",
    pins=PINS,
    patches={},
)

if __name__ == "__main__":
    main(VENDORING, __doc__.splitlines()[0])
