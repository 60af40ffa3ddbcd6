"""The console in real headless Chromium against a real server on loopback:
sign in by link, the account page, tokens, a generation followed live, and the
public gallery signed out."""

import httpx
import pytest

from core.enums import Scope
from core.settings import Settings
from tests.api.chromium import Page
from tests.console.browser import (
    click,
    leaving_loopback,
    new_account,
    received_frames,
    sign_in,
    text_of,
    type_into,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_a_sign_in_link_opens_the_account_page(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given a sign-in link for a PRO account with 50 credits
    email, code, _ = new_account(live_settings, credits=50)
    # when it is opened and its button pressed
    sign_in(page, live_server, code)
    # then the account page shows who is signed in, the plan and the credits
    assert text_of(page, "#account-email") == email
    assert text_of(page, "#account-tier") == "PRO"
    page.wait_for("document.querySelectorAll('#credit-rows tbody tr').length > 0")
    assert text_of(page, "#account-credits") == "50"
    # and the cookie is out of the page's reach, which loaded only its own files
    assert page.evaluate("document.cookie") == ""
    assert leaving_loopback(page, live_server) == []
    assert page.problems() == []


def test_a_token_is_created_shown_once_and_revoked(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given a signed-in console on the tokens page
    _, code, _ = new_account(live_settings)
    sign_in(page, live_server, code)
    click(page, "a[data-page=tokens]")
    page.wait_for("!!document.querySelector('#token-count')")
    assert text_of(page, "#token-count").startswith("0 of 4 active tokens")
    # when a READ-only token is created
    type_into(page, "#token-name", "ci reader")
    page.evaluate(
        "document.querySelector('input[value=GENERATE]').click()"
    )  # GENERATE off; READ stays on
    click(page, "#token-create")
    # then its secret is shown once with a copy button, and it is listed
    secret = page.wait_for("document.querySelector('#secret-value')?.innerText")
    assert secret.startswith("drk_")
    assert page.evaluate("!!document.querySelector('#copy-secret')")
    row = "document.querySelector('tr[data-token=\"ci reader\"]')"
    page.wait_for(f"!!{row}")
    assert "READ" in page.evaluate(f"{row}.innerText")
    assert text_of(page, "#token-count").startswith("1 of 4")
    # and the secret works against the API
    me = httpx.post(
        f"{live_server}/graphql",
        json={"query": "{ me { tokenScopes } }"},
        headers={"Authorization": f"Bearer {secret}"},
    ).json()
    assert me["data"]["me"]["tokenScopes"] == ["READ"]
    # when it is revoked (a second click confirms)
    click(page, 'tr[data-token="ci reader"] button.revoke')
    click(page, 'tr[data-token="ci reader"] button.revoke')
    # then it is shown revoked and no longer authenticates
    page.wait_for(f"{row}.classList.contains('revoked')")
    after = httpx.post(
        f"{live_server}/graphql",
        json={"query": "{ me { email } }"},
        headers={"Authorization": f"Bearer {secret}"},
    ).json()
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert page.problems() == []


def test_a_generation_on_the_tiny_model_is_followed_live_to_its_images(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given a signed-in console on the generate page, its form from the catalog
    _, code, _ = new_account(live_settings, credits=10)
    sign_in(page, live_server, code)
    click(page, "a[data-page=generate]")
    page.wait_for("!!document.querySelector('#gen-prompt')")
    # when a size off the model's grid is asked for
    type_into(page, "#gen-prompt", "a lighthouse at dusk")
    type_into(page, "#gen-width", "65")
    click(page, "#gen-submit")
    # then the refusal is shown beside the width field, and nothing runs
    message = page.wait_for(
        "document.querySelector('.field-error[data-field=width]')?.innerText"
    )
    assert "width" in message
    assert not page.evaluate("!!document.querySelector('#job')")
    # when a valid tiny generation is submitted with previews
    for field, value in (
        ("#gen-width", "64"),
        ("#gen-height", "64"),
        ("#gen-inferenceSteps", "6"),
        ("#gen-numOutputs", "2"),
        ("#gen-previewEvery", "1"),
    ):
        type_into(page, field, value)
    click(page, "#gen-submit")
    # then the page follows it over the websocket to SUCCEEDED and its images
    page.wait_for("document.querySelector('#job')?.dataset.status === 'SUCCEEDED'")
    page.wait_for(
        "Array.from(document.querySelectorAll('#job-outputs img'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length === 2"
    )
    assert text_of(page, "#job-step") == "6"
    # and the updates came live: progress steps with previews, then outputs
    updates = [
        f["payload"]["data"]["jobUpdates"]
        for f in received_frames(page)
        if f.get("type") == "next"
    ]
    types = [u["type"] for u in updates]
    assert "PROGRESS" in types
    assert types.count("OUTPUT") == 2
    assert types[-1] == "SUCCEEDED"
    assert any(u["preview"] for u in updates if u["type"] == "PROGRESS")
    assert page.problems() == []


def test_the_gallery_is_readable_without_signing_in(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given an image generated publicly, submitted and approved by a moderator
    _, _, token = new_account(
        live_settings, scopes=(Scope.GENERATE, Scope.READ, Scope.MANAGE, Scope.ADMIN)
    )
    prompt = "a gallery fox in the snow"

    def call(query: str, variables: dict[str, object]) -> dict[str, object]:
        body = httpx.post(
            f"{live_server}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ).json()
        assert not body.get("errors"), body
        data: dict[str, object] = body["data"]
        return data

    made = call(
        """mutation($input: GenerationCreateInput!) {
          generationCreate(input: $input, wait: 30) { job { status outputs { id } } } }""",
        {
            "input": {
                "prompt": prompt,
                "width": 64,
                "height": 64,
                "inferenceSteps": 2,
                "numOutputs": 1,
                "isPublic": True,
            }
        },
    )
    [output] = made["generationCreate"]["job"]["outputs"]  # type: ignore[index]
    call(
        "mutation($ids: [ID!]!) { outputsSubmitToGallery(ids: $ids) { userErrors { code } } }",
        {"ids": [output["id"]]},
    )
    call(
        """mutation($ids: [ID!]!) { galleryReview(input: {ids: $ids, decision: APPROVE}) {
          userErrors { code } } }""",
        {"ids": [output["id"]]},
    )
    # when a browser with no session opens the gallery
    page.send("Page.navigate", url=f"{live_server}/console/gallery")
    # then the image shows, and the pages that need an account ask for sign-in
    figure = f"document.querySelector('#gallery figure img[alt=\"{prompt}\"]')"
    page.wait_for(f"!!{figure} && {figure}.complete && {figure}.naturalWidth > 0")
    nav = page.evaluate(
        "Array.from(document.querySelectorAll('nav a')).map(a => a.dataset.page)"
    )
    assert nav == ["gallery"]
    page.send("Page.navigate", url=f"{live_server}/console/tokens")
    page.wait_for("!!document.querySelector('#signed-out')")
    assert leaving_loopback(page, live_server) == []
    assert page.problems() == []


def generate_tiny(page: Page, prompt: str) -> None:
    """Submit a 2-image tiny generation from the generate page; wait for it."""
    click(page, "a[data-page=generate]")
    page.wait_for("!!document.querySelector('#gen-prompt')")
    type_into(page, "#gen-prompt", prompt)
    for field, value in (("#gen-width", "64"), ("#gen-height", "64")):
        type_into(page, field, value)
    type_into(page, "#gen-inferenceSteps", "2")
    click(page, "#gen-submit")
    page.wait_for("document.querySelector('#job')?.dataset.status === 'SUCCEEDED'")


def test_usage_images_and_webhooks_pages_work_and_sign_out_everywhere_ends_it(
    live_server: str, live_settings: Settings, page: Page
) -> None:
    # given a signed-in console that generated two images
    _, code, _ = new_account(live_settings, credits=10)
    sign_in(page, live_server, code)
    generate_tiny(page, "a harbour in fog")
    # then usage charts the day's credits and lists the job as WEB
    click(page, "a[data-page=usage]")
    page.wait_for("!!document.querySelector('#usage-chart canvas')")
    page.wait_for("!!document.querySelector('#usage tr[data-source=WEB]')")
    assert text_of(page, "#usage-total").startswith("2 credits in 1 jobs")
    # and the images page shows both; one opens with its seed and is favorited
    click(page, "a[data-page=images]")
    page.wait_for("document.querySelectorAll('#images .tile').length === 2")
    click(page, "#images .tile")
    page.wait_for("!!document.querySelector('#detail-seed')")
    assert text_of(page, "#detail-seed").isdigit()
    assert text_of(page, "#detail-prompt") == "a harbour in fog"
    click(page, "#detail-favorite")
    page.wait_for(
        "document.querySelector('#detail-favorite').innerText === 'Unfavorite'"
    )
    click(page, "#filter-favorites")
    page.wait_for("document.querySelectorAll('#images .tile').length === 1")
    assert page.evaluate("!!document.querySelector('#detail-download[download]')")
    # and a webhook endpoint is added, its secret shown once
    click(page, "a[data-page=webhooks]")
    type_into(page, "#webhook-url", "https://hooks.example.com/darkroom")
    click(page, "#webhook-create")
    page.wait_for("!!document.querySelector('#webhook-secret code')")
    page.wait_for("document.querySelectorAll('#endpoints tbody tr').length === 1")
    assert page.problems() == []
    # when it signs out everywhere
    click(page, "#sign-out-everywhere")
    # then it is on the public gallery, signed out, and its pages ask to sign in
    page.wait_for("location.pathname === '/console/gallery'")
    page.wait_for("!!document.querySelector('#gallery')")
    page.send("Page.navigate", url=f"{live_server}/console/account")
    page.wait_for("!!document.querySelector('#signed-out')")
