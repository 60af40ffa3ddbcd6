"""Vendor Preact, its hooks, htm and uPlot into api/console/vendor/.

The console is plain ES modules served from the package: no build step at
install, no CDN, nothing fetched at run time. scripts/vendoring.py downloads
the versions pinned below from npm, verifies each tarball, copies the ES module
builds out and writes console.lock.json.

    python scripts/fetch_console.py            # fetch the pins, rewrite the lock
    python scripts/fetch_console.py --check    # offline: files match the lock

Why these: Preact (10 KB gzipped with hooks) gives components and hooks; htm
gives them JSX-like templates from tagged template literals, so no compiler;
uPlot draws the usage chart on a canvas in about 40 KB gzipped. All three ship
ready ES modules. The one change made to a file: preact/hooks imports the bare
name "preact", which a browser resolves only through an import map (an inline
script the console's CSP refuses), so that one import is pointed at the file
beside it; the lock records the sha256 of the file as served.
"""

from vendoring import ROOT, Vendoring, main

# package, version, {file in the tarball: name under vendor/}
PINS: list[tuple[str, str, dict[str, str]]] = [
    (
        "preact",
        "10.27.2",
        {
            "package/dist/preact.module.js": "preact.module.js",
            "package/hooks/dist/hooks.module.js": "hooks.module.js",
            "package/LICENSE": "LICENSE.preact",
        },
    ),
    (
        "htm",
        "3.1.1",
        {
            "package/dist/htm.module.js": "htm.module.js",
            "package/LICENSE": "LICENSE.htm",
        },
    ),
    (
        "uplot",
        "1.6.32",
        {
            "package/dist/uPlot.esm.js": "uPlot.esm.js",
            "package/dist/uPlot.min.css": "uPlot.min.css",
            "package/LICENSE": "LICENSE.uplot",
        },
    ),
]
# name under vendor/: (exact bytes, replacement), applied once, checked present.
PATCHES = {"hooks.module.js": (b'from"preact"', b'from"./preact.module.js"')}

VENDORING = Vendoring(
    label="console",
    folder=ROOT / "api" / "console" / "vendor",
    lock=ROOT / "scripts" / "console.lock.json",
    pins=PINS,
    patches=PATCHES,
)

if __name__ == "__main__":
    main(VENDORING, __doc__.splitlines()[0])
