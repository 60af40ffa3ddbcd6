"""The console's page weight: everything a page loads, gzipped, within 300 KB."""

import pytest

from core.settings import Settings
from tests.api.chromium import Page
from tests.console.browser import click, new_account, page_weight, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

BUDGET = 300 * 1024


def test_a_console_page_loads_at_most_300_kb_gzipped(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given a signed-in console showing the usage page, the one with the chart
    _, code, _ = new_account(live_settings)
    sign_in(page, live_server, code)
    click(page, "a[data-page=usage]")
    page.wait_for("!!document.querySelector('#usage-chart canvas')")
    # when every file it loaded is weighed gzipped
    sizes = page_weight(page)
    # then the document, its modules, Preact, htm, uPlot and the styles are all
    # there, and together fit the budget
    names = {url.rsplit("/", 1)[-1].split("?")[0] for url in sizes}
    # ("" is the shell at /console/, where sign-in lands)
    assert {"", "app.js", "preact.module.js", "uPlot.esm.js"} <= names
    assert {"console.css", "uPlot.min.css"} <= names
    total = sum(sizes.values())
    print(f"console page weight: {total / 1024:.1f} KB gzipped in {len(sizes)} files")
    assert total <= BUDGET, sizes
