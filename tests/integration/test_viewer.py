"""The session viewer (`/viewer`) in Debian's chromium, headless, driven by Playwright,
against `serve` on the real broker and an embedded store: what each role sees, the
not-permitted message, live updates, and a row altered in the store marked as failing.
Screenshots go to test-artifacts/viewer/ (git-ignored)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from ledger.access import NETWORK_FIELDS
from ledger.embedded import EmbeddedStore
from producers.producer import AuditProducer
from tests.support.ingest import family_topics, fill
from tests.support.serve import Serve, wait_for

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "viewer"
README_SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "viewer-auditor.png"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    home = tmp_path_factory.mktemp("viewer")
    serve = Serve(kafka_bootstrap, home / "store", home / "serve.log", "viewer-" + "s" * 40)
    serve.start()
    try:
        serve.events = fill(kafka_bootstrap, serve.topics, sessions=12, seed=91)
        yield serve
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


# Uncaught errors in any page the tests open: each test ends with none.
PAGE_ERRORS: list[str] = []


@pytest.fixture(autouse=True)
def no_page_errors() -> Iterator[None]:
    PAGE_ERRORS.clear()
    yield
    assert PAGE_ERRORS == []


def _completed(served: Serve) -> tuple[uuid.UUID, str, str]:
    events = served.events
    for event in events:
        if event.event_type == "session_completed":
            return event.session_id, event.client_id, event.specialist_id  # type: ignore[attr-defined]
    raise AssertionError("no completed session")


def _stored(served: Serve, sid: uuid.UUID) -> list[dict[str, Any]]:
    """The session as an auditor reads it, once every produced event is stored."""
    sent = sum(1 for e in served.events if e.session_id == sid)

    def check() -> list[dict[str, Any]] | None:
        response = served.get(f"/v1/sessions/{sid}/trail", served.token("auditor", "aud-1"))
        rows: list[dict[str, Any]] = response.json().get("events", [])
        return rows if response.status_code == 200 and len(rows) >= sent else None

    return wait_for(check, f"session {sid} to be stored")


def _open(browser: Any, served: Serve, token: str, session: object = None, **ctx: Any) -> Any:
    page = browser.new_context(**ctx).new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    fragment = f"token={token}" + (f"&session={session}" if session else "")
    page.goto(f"{served.url}/viewer#{fragment}")
    return page


def _rows(page: Any) -> Any:
    return page.locator("#timeline tbody tr")


def _shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_client_sees_their_session_and_the_other_partys_device_but_no_network(
    served: Serve, browser: Any
) -> None:
    sid, client, specialist = _completed(served)
    rows = _stored(served, sid)
    secrets = {str(r[f]) for r in rows for f in NETWORK_FIELDS if r.get(f)}
    assert secrets, "the auditor's read has network fields to look for"
    token = served.token("client", client)
    page = _open(browser, served, token, sid)
    page.wait_for_selector("#timeline tbody tr", timeout=60_000)
    assert _rows(page).count() == len(rows)
    page.locator("#payments").wait_for(state="visible", timeout=60_000)
    specialist_rows = page.locator("#timeline tbody tr", has_text=f"specialist {specialist}")
    assert specialist_rows.count() > 0
    device = specialist_rows.first.locator("td[data-label=Device]").inner_text()
    assert device.strip(), "the other party's device is shown"
    html = page.content()
    # No IP or location of anyone, the client's own included: the viewer shows network
    # fields to auditors only.
    assert not [value for value in secrets if value in html]
    assert page.locator("th.network").is_hidden()
    assert page.locator(f"#participants >> text=client {client}").count() == 1
    assert page.locator(f"#participants >> text=specialist {specialist}").count() == 1
    assert "pass the integrity check" in page.locator("#integrity-summary").inner_text()
    assert page.url.endswith("/viewer"), "the token leaves the address bar"
    _shot(page, "client.png")
    # Phone width: one column, nothing wider than the screen.
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    _shot(page, "client-phone.png")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download this session as JSON").click()
    downloaded = json.loads(Path(downloading.value.path()).read_text())
    assert downloading.value.suggested_filename == f"session-{sid}.json"
    assert [e["event_id"] for e in downloaded["events"]] == [e["event_id"] for e in rows]
    page.context.close()
    # The server logs every request line (query strings included), never the fragment.
    assert '"GET /viewer HTTP/1.1" 200' in served.log()
    assert token not in served.log()


def test_another_clients_token_gets_the_not_permitted_message(served: Serve, browser: Any) -> None:
    sid, _, _ = _completed(served)
    _stored(served, sid)
    page = _open(browser, served, served.token("client", "client-99999"), sid)
    problem = page.locator("#problem")
    problem.wait_for(state="visible", timeout=60_000)
    assert problem.inner_text() == (
        f"Not permitted: not permitted: client:client-99999 may not read session {sid}"
    )
    assert page.locator("#session").is_hidden()
    assert _rows(page).count() == 0
    page.context.close()


def test_an_auditor_sees_the_network_fields_and_new_events_arrive_live(
    served: Serve, browser: Any
) -> None:
    sid, _, _ = _completed(served)
    rows = _stored(served, sid)
    ip = next(str(r["network_ip"]) for r in rows if r.get("network_ip"))
    page = _open(
        browser,
        served,
        served.token("auditor", "aud-1"),
        sid,
        timezone_id="Asia/Tokyo",
        locale="en-US",
    )
    page.wait_for_selector("#timeline tbody tr", timeout=60_000)
    assert page.locator("th.network").is_visible()
    # The viewer's time zone in the cell, UTC on hover (Tokyo is 9 hours ahead, no DST).
    first = page.locator("#timeline td[data-label=Time]").first
    utc = datetime.fromisoformat(first.get_attribute("title").removesuffix(" UTC"))
    assert str((utc + timedelta(hours=9)).hour % 12 or 12) + ":" in first.inner_text()
    assert ip in page.locator("#timeline").inner_text()
    before = _rows(page).count()
    _shot(page, "auditor.png")
    if os.environ.get("AUDIT_UPDATE_README_SHOT"):  # README's picture, refreshed on request
        page.screenshot(path=str(README_SHOT), full_page=False)

    events = served.events
    last = max((e for e in events if e.session_id == sid), key=lambda e: e.occurred_at)
    later = last.model_copy(
        update={"event_id": uuid.uuid4(), "occurred_at": last.occurred_at + timedelta(seconds=1)}
    )
    with AuditProducer(served.bootstrap, family_topics(served.topics)) as producer:
        producer.send(later)
    events.append(later)
    # No reload: the page's own polling brings the new row in.
    expect(_rows(page)).to_have_count(before + 1, timeout=120_000)
    page.select_option("#filter-type", last.event_type)
    shown = {t.strip() for t in page.locator("#timeline td[data-label=Event]").all_inner_texts()}
    assert shown == {last.event_type}
    page.context.close()


def test_an_auditor_searches_sessions_by_person_and_opens_one(served: Serve, browser: Any) -> None:
    sid, client, _ = _completed(served)
    _stored(served, sid)
    page = _open(browser, served, served.token("auditor", "aud-1"))
    page.locator("#search").wait_for(state="visible", timeout=60_000)
    page.get_by_label("Person id").fill(client)
    page.get_by_label("Has an event of type").fill("session_completed")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=str(sid)).click()
    page.wait_for_selector("#timeline tbody tr", timeout=60_000)
    assert page.locator("#session-id").inner_text() == str(sid)
    page.context.close()


HOSTILE_OS = '<img src=x onerror="document.title=1">'
HOSTILE_BROWSER = "</td><script>document.title=2</script>"


def test_embedded_with_a_posted_token_hostile_text_stays_text_and_strangers_are_ignored(
    served: Serve, browser: Any
) -> None:
    sid, client, _ = _completed(served)
    _stored(served, sid)
    # A careless (or hostile) producer's device text, in an event of this session.
    mine = next(e for e in served.events if e.session_id == sid and e.actor.id == client)
    assert mine.device is not None
    device = mine.device.model_copy(update={"os": HOSTILE_OS, "browser": HOSTILE_BROWSER})
    odd = mine.model_copy(update={"event_id": uuid.uuid4(), "device": device})
    with AuditProducer(served.bootstrap, family_topics(served.topics)) as producer:
        producer.send(odd)
    served.events.append(odd)
    rows = _stored(served, sid)
    # The embedding page posts a client's token; a sibling frame keeps posting an
    # auditor's, which the viewer must ignore (only its parent may hand it a token).
    auditor = served.token("auditor", "aud-1")
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(str(error)))
    page.set_content(f"""<!doctype html><title>platform</title>
<iframe id="viewer" title="Session audit" src="{served.url}/viewer"
        width="1000" height="700"></iframe>
<iframe id="stranger" srcdoc="<script>setInterval(() => parent.frames[0].postMessage(
  {{type: 'audit-trail-viewer', token: '{auditor}', session: '{sid}'}}, '*'), 100)</script>">
</iframe>
<script>
document.getElementById('viewer').addEventListener('load', (event) =>
  event.target.contentWindow.postMessage({{type: 'audit-trail-viewer',
    token: '{served.token("client", client)}', session: '{sid}'}}, '{served.url}'));
</script>""")
    frame = page.frame_locator("#viewer")
    expect(frame.locator("#timeline tbody tr")).to_have_count(len(rows), timeout=60_000)
    frame.locator("#status").get_by_text("live").wait_for(timeout=60_000)
    assert frame.locator("th.network").is_hidden(), "the stranger's auditor token was used"
    devices = frame.locator("#timeline td[data-label=Device]").all_inner_texts()
    assert any(HOSTILE_OS in text and HOSTILE_BROWSER in text for text in devices)
    assert frame.locator("#timeline img, #timeline script").count() == 0
    assert frame.locator("title").inner_text() == "Session audit"  # no script of theirs ran
    page.context.close()


def test_the_page_serves_its_own_files_only(served: Serve) -> None:
    page = httpx.get(f"{served.url}/viewer")
    assert (
        page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    )
    assert page.headers["referrer-policy"] == "no-referrer"
    for name in ("..%2Fapi%2Fapp.py", "index.html%00.js", "__init__.py", "viewer.js.map"):
        response = httpx.get(f"{served.url}/viewer/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json", name
    assert (
        httpx.get(f"{served.url}/viewer/viewer.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )


def test_the_search_route_is_for_auditors_and_refuses_bad_filters_in_one_line(
    served: Serve,
) -> None:
    sid, client, _ = _completed(served)
    _stored(served, sid)
    auditor = served.token("auditor", "aud-1")
    found = served.get("/v1/sessions", auditor, person=client, page_size=100)
    assert found.status_code == 200, found.text
    assert str(sid) in {s["session_id"] for s in found.json()["sessions"]}
    for role in ("client", "specialist", "analyst"):
        refused = served.get("/v1/sessions", served.token(role, client), person=client)
        assert refused.status_code == 403, role
        assert refused.json()["detail"] == f"not permitted: {role}:{client} may not search sessions"
    bound = served.get("/v1/sessions", served.token("auditor", "aud-1", session=sid))
    assert bound.status_code == 403  # a token for one session searches nothing
    for params, words in (
        ({"person": "' OR 1=1 --"}, "invalid person id"),
        ({"event_type": "x' OR '1"}, "invalid event type"),
        ({"since": "2026-11-02T00:00:00"}, "give a time zone"),
        ({"since": "yesterday"}, "since"),
        ({"page": "0"}, "page from 1"),
        ({"page_size": "100000"}, "page_size 1-100"),
    ):
        response = served.get("/v1/sessions", auditor, **params)
        assert response.status_code == 400, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.json()["detail"], (params, response.text)


def test_the_trail_carries_integrity_and_leaves_a_partys_network_out_on_request(
    served: Serve,
) -> None:
    sid, client, _ = _completed(served)
    rows = _stored(served, sid)
    checked = served.get(
        f"/v1/sessions/{sid}/trail", served.token("client", client), integrity="true",
        own_network="false",
    ).json()["events"]  # fmt: skip
    assert len(checked) == len(rows)
    assert {r["integrity"]["status"] for r in checked} == {"ok"}
    assert not [r for r in checked if set(NETWORK_FIELDS) & set(r)]
    plain = served.get(f"/v1/sessions/{sid}/trail", served.token("client", client)).json()
    assert "integrity" not in plain["events"][0]  # opt-in: the plain read costs as before
    assert any("network_ip" in r for r in plain["events"])  # issue 11's answer unchanged
    audited = served.get(
        f"/v1/sessions/{sid}/trail", served.token("auditor", "aud-1"), own_network="false"
    ).json()["events"]
    with_network = sum(1 for r in rows if "network_ip" in r)
    assert with_network and sum(1 for r in audited if "network_ip" in r) == with_network


def test_a_row_altered_in_the_store_is_shown_as_failing_integrity(
    served: Serve, browser: Any
) -> None:
    sid, client, _ = _completed(served)
    rows = _stored(served, sid)
    target = next(r for r in rows if r["actor_id"] == client)
    served.stop()  # the embedded store has one owner at a time
    store = EmbeddedStore(served.data_dir, "audit", create=False)
    try:
        store.query(
            "ALTER TABLE trail UPDATE device_os = 'tampered-os' WHERE event_id = {e:UUID} "
            "SETTINGS mutations_sync = 2",
            {"e": uuid.UUID(str(target["event_id"]))},
        )
    finally:
        store.close()
    served.start()
    token = served.token("client", client)
    page = _open(browser, served, token, sid)
    page.wait_for_selector("#timeline tbody tr", timeout=60_000)
    assert _rows(page).count() == len(rows), "the altered row is still shown"
    failing = page.locator("#timeline tbody tr[data-integrity=altered]")
    assert failing.count() == 1
    assert "tampered-os" in failing.inner_text()
    assert "✗ fails: altered" in failing.inner_text()
    assert "1 of" in page.locator("#integrity-summary").inner_text()
    _shot(page, "tampered.png")
    page.context.close()
