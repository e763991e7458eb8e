"""`audit-trail serve` as deployed: its own process on the embedded store and the real
broker, read over real sockets while events are produced; SIGTERM drains and exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from audit_trail.stack import TopicLayout
from audit_trail.tokens import mint
from ledger.access import NETWORK_FIELDS
from producers.events import Event
from tests.support.ingest import fill
from tests.support.serve import wait_for

pytestmark = pytest.mark.integration

SECRET = "serve-test-secret-" + "x" * 32
SOON = time.time() + 3600  # tests run well within the hour
CLI = [sys.executable, "-m", "audit_trail.cli"]


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    env: dict[str, str]
    events: list[Event]
    topics: TopicLayout
    bootstrap: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(role: str, sub: str, *, session: object = None, ttl_s: int = 300) -> str:
    return mint(
        role=role, sub=sub, ttl_s=ttl_s, kid="t1", algorithm="HS256",
        signing_key=SECRET.encode(), session=None if session is None else str(session),
    )  # fmt: skip


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def _wait(check: Any, what: str, timeout_s: float = 90.0) -> Any:
    return wait_for(check, what, timeout_s)


@pytest.fixture(scope="module")
def served(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from audit_trail.stack import ensure_topics

    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"sv.session-{suffix}", f"sv.transaction-{suffix}", f"sv.dlq-{suffix}")
    ensure_topics(kafka_bootstrap, topics)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        AUDIT_DATA_DIR=str(Path(tmp_path_factory.mktemp("serve")) / "store"),
        AUDIT_TOPIC_SESSION=topics.session,
        AUDIT_TOPIC_TRANSACTION=topics.transaction,
        AUDIT_TOPIC_DEAD_LETTER=topics.dead_letter,
        AUDIT_CONSUMER_GROUP=f"serve-{suffix}",
        AUDIT_TOKEN_HS256_SECRETS=json.dumps({"t1": SECRET}),
        AUDIT_SERVE_PORT=str(port),
        AUDIT_BATCH_MAX_AGE_MS="50",
    )
    process = subprocess.Popen(
        [*CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/healthz").status_code == 200, "serve to listen")
        # Produced while serve runs; read back as ingest goes on.
        events = fill(kafka_bootstrap, topics, sessions=30, seed=77)
        yield Served(process, url, env, events, topics, kafka_bootstrap)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _session_with_both(events: list[Event]) -> tuple[uuid.UUID, str, str]:
    for event in events:
        if event.event_type == "session_completed":
            return event.session_id, event.client_id, event.specialist_id  # type: ignore[attr-defined]
    raise AssertionError("no completed session")


def _trail(served: Served, sid: object, as_token: str) -> httpx.Response:
    return httpx.get(f"{served.url}/v1/sessions/{sid}/trail", headers=auth(as_token), timeout=30)


def _stored_fully(served: Served, sid: uuid.UUID) -> list[dict[str, Any]] | None:
    sent = sum(1 for e in served.events if e.session_id == sid)
    response = _trail(served, sid, token("auditor", "auditor-1"))
    if response.status_code != 200:
        return None
    events: list[dict[str, Any]] = response.json()["events"]
    return events if len(events) == sent else None


def test_parties_read_their_session_over_http_without_the_others_network(served: Served) -> None:
    sid, client, specialist = _session_with_both(served.events)
    _wait(lambda: _stored_fully(served, sid), "the session to be stored")
    for me, other, role in ((client, specialist, "client"), (specialist, client, "specialist")):
        response = _trail(served, sid, token(role, me))
        assert response.status_code == 200, response.text
        rows = response.json()["events"]
        others = [r for r in rows if r["actor_id"] == other]
        assert others and all("device_os" in r for r in others)
        assert all(not set(NETWORK_FIELDS) & set(r) for r in others)
        assert any("network_ip" in r for r in rows if r["actor_id"] == me)
    # A token bound to this session reads it.
    assert _trail(served, sid, token("client", client, session=sid)).status_code == 200


def test_not_permitted_is_one_answer_for_real_unknown_and_out_of_scope(served: Served) -> None:
    sid, client, _ = _session_with_both(served.events)
    _wait(lambda: _stored_fully(served, sid), "the session to be stored")
    other_sid = next(e.session_id for e in served.events if e.session_id != sid)
    unknown = uuid.uuid4()
    answers = []
    for session, as_token in (
        (other_sid, token("client", client)),  # someone else's session
        (unknown, token("client", client)),  # no such session
        (other_sid, token("client", client, session=sid)),  # outside the token's sid
        (other_sid, token("analyst", client)),  # analysts read views, not trails
    ):
        response = _trail(served, session, as_token)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        answers.append(response.text.replace(str(session), "<id>"))
    assert answers[0] == answers[1] == answers[2]
    assert json.loads(answers[0]) == {
        "type": "about:blank", "title": "Not permitted", "status": 403,
        "detail": f"not permitted: client:{client} may not read session <id>",
    }  # fmt: skip
    wrong_role = jwt.encode(
        {"sub": client, "role": "admin", "exp": int(time.time()) + 60}, SECRET.encode(),
        algorithm="HS256", headers={"kid": "t1"},
    )  # fmt: skip
    response = _trail(served, sid, wrong_role)
    assert response.status_code == 403
    assert response.json()["title"] == "Not permitted"


def _unsigned(claims: dict[str, Any]) -> str:
    import base64

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 't1'})}.{b64(claims)}."


def test_every_token_refusal_is_401_with_a_problem_body(served: Served) -> None:
    sid, client, _ = _session_with_both(served.events)
    good = token("client", client)
    head, body, sig = good.split(".")
    tampered_body = json.loads(__import__("base64").urlsafe_b64decode(body + "=="))
    tampered_body["role"] = "auditor"
    tampered = _unsigned(tampered_body).split(".")[1]
    cases = {
        "none": (None, "no bearer token"),
        "basic": ("Basic dXNlcjpwYXNz", "no bearer token"),
        "garbage": ("Bearer not.a.jwt", "not a JWT"),
        "bad signature": (f"Bearer {head}.{body}.{sig[:-6]}AAAAAA", "signature does not verify"),
        "expired": (
            "Bearer " + mint(role="client", sub=client, ttl_s=1, kid="t1", algorithm="HS256",
                             signing_key=SECRET.encode(), now=time.time() - 120),
            "expired",
        ),
        "alg none": ("Bearer " + _unsigned({"sub": client, "role": "auditor", "exp": SOON}),
                     "alg is not HS256"),
        "unknown kid": ("Bearer " + jwt.encode(
            {"sub": client, "role": "client", "exp": SOON}, SECRET.encode(), algorithm="HS256",
            headers={"kid": "retired"}), "kid names no configured key"),
        "tampered claim": (f"Bearer {head}.{tampered}.{sig}", "signature does not verify"),
        "oversize": (f"Bearer {head}.{body}{'A' * 9000}.{sig}", "at most 4096"),
    }  # fmt: skip
    for name, (header, reason) in cases.items():
        headers = {} if header is None else {"Authorization": header}
        response = httpx.get(f"{served.url}/v1/sessions/{sid}/trail", headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json", name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        problem = response.json()
        assert (problem["status"], problem["title"]) == (401, "Unauthorized"), name
        assert reason in problem["detail"], (name, problem)
        assert client not in response.text, name  # nothing of the trail leaks


def test_payments_export_sql_and_verify_by_role(served: Served) -> None:
    sid, client, _ = _session_with_both(served.events)
    _wait(lambda: _stored_fully(served, sid), "the session to be stored")
    booking = next(
        e.booking_id for e in served.events  # type: ignore[attr-defined]
        if e.event_type == "payment_succeeded" and e.session_id == sid
    )  # fmt: skip
    paid = httpx.get(f"{served.url}/v1/payments", params={"booking": str(booking)},
                     headers=auth(token("client", client)))  # fmt: skip
    assert paid.status_code == 200, paid.text
    assert {r["event_type"] for r in paid.json()["events"]} >= {"payment_succeeded"}
    elsewhere = uuid.uuid4()  # a token for another session does not reach this booking
    bound = httpx.get(f"{served.url}/v1/payments", params={"booking": str(booking)},
                      headers=auth(token("client", client, session=elsewhere)))  # fmt: skip
    assert bound.status_code == 403
    assert (
        bound.json()["detail"]
        == f"not permitted: client:{client} may not read booking_id {booking}"
    )
    both = httpx.get(f"{served.url}/v1/payments", headers=auth(token("client", client)))
    assert both.status_code == 400
    assert both.headers["content-type"] == "application/problem+json"

    with httpx.stream("GET", f"{served.url}/v1/subjects/{client}/export",
                      headers=auth(token("client", client))) as streamed:  # fmt: skip
        assert streamed.status_code == 200
        lines = [json.loads(line) for line in streamed.iter_lines() if line]
    assert lines and all(client in json.dumps(row) for row in lines)
    csv_export = httpx.get(f"{served.url}/v1/subjects/{client}/export?format=csv",
                           headers=auth(token("auditor", "auditor-1")))  # fmt: skip
    assert csv_export.status_code == 200
    assert csv_export.text.splitlines()[0].startswith("event_id,")
    assert len(csv_export.text.splitlines()) == len(lines) + 1
    someone_else = httpx.get(f"{served.url}/v1/subjects/{client}/export",
                             headers=auth(token("client", "client-99999")))  # fmt: skip
    assert someone_else.status_code == 403

    query = {"query": "SELECT count() AS n FROM v_session_timeline"}
    for role, status in (("analyst", 200), ("auditor", 200), ("client", 403), ("specialist", 403)):
        response = httpx.post(f"{served.url}/v1/sql", json=query, headers=auth(token(role, "p-1")))
        assert response.status_code == status, (role, response.text)
    refused = httpx.post(f"{served.url}/v1/sql", json={"query": "DROP TABLE trail"},
                         headers=auth(token("analyst", "a-1")))  # fmt: skip
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"

    assert (
        httpx.get(f"{served.url}/v1/verify", headers=auth(token("client", client))).status_code
        == 403
    )
    verified = httpx.get(
        f"{served.url}/v1/verify", headers=auth(token("auditor", "a-1")), timeout=60
    )
    assert verified.status_code == 200
    assert verified.json()["ok"] is True, verified.json()["report"]


def test_operations_endpoints(served: Served) -> None:
    assert httpx.get(f"{served.url}/healthz").json() == {"status": "alive"}
    ready = _wait(lambda: httpx.get(f"{served.url}/readyz").status_code == 200, "readyz")
    assert ready
    metrics = httpx.get(f"{served.url}/metrics").text
    assert "audit_ingest_rows_total" in metrics and "process_cpu_seconds_total" in metrics
    assert 'audit_build_info{version="' in metrics
    spec = httpx.get(f"{served.url}/openapi.json").json()
    assert "/v1/sessions/{session_id}/trail" in spec["paths"]


# Suffixes that name a unit (Prometheus naming: base units, plural), and gauges that are
# a 0/1 state rather than a quantity.
UNITS = ("_seconds", "_bytes", "_records", "_rows", "_events", "_ratio")
STATES = {"audit_store_available"}


def test_metrics_follow_prometheus_naming(served: Served) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    _wait(lambda: "audit_ingest_rows_total{" in httpx.get(f"{served.url}/metrics").text, "rows")
    text = httpx.get(f"{served.url}/metrics").text
    families = list(text_string_to_metric_families(text))
    names = [f.name for f in families]
    assert len(names) == len(set(names)), "a metric family is exposed twice"
    ours = [f for f in families if f.name.startswith("audit_")]
    assert ours, text[:500]
    for family in ours:
        samples = {s.name for s in family.samples}
        if family.type == "counter":
            # (A labelled counter with no child yet has no sample: nothing to check.)
            assert samples <= {f"{family.name}_total"}, f"{family.name}: counters end in _total"
        elif family.type == "histogram":
            assert family.name.endswith(UNITS), f"{family.name}: a histogram names its unit"
        elif family.type == "gauge":
            # A rate is a counter's job: Prometheus derives it with rate().
            assert not any(w in family.name for w in ("per_second", "throughput", "_rate")), (
                f"{family.name}: no gauge holds a rate"
            )
            if family.name in STATES:
                assert {s.value for s in family.samples} <= {0.0, 1.0}
            else:
                assert family.name.endswith((*UNITS, "_info")), f"{family.name}: name the unit"
        else:
            raise AssertionError(f"{family.name}: unexpected type {family.type}")
    build = next(f for f in families if f.name == "audit_build_info")
    assert [s.value for s in build.samples] == [1.0] and build.samples[0].labels["version"]
    assert "process_cpu_seconds" in names and "process_resident_memory_bytes" in names


def test_careless_and_hostile_requests_get_one_problem_line(served: Served) -> None:
    auditor = {**auth(token("auditor", "a-1")), "content-type": "application/json"}
    cases = [
        ("GET", "/v1/sessions/not-a-uuid/trail", None, 400, "invalid session id 'not-a-uuid'"),
        ("GET", "/v1/sessions/..%2F..%2Fetc/trail", None, 404, ""),
        ("GET", f"/v1/sessions/{'a' * 5000}/trail", None, 400, "expected a UUID"),
        ("GET", "/v1/payments?booking=x&transaction=y", None, 400, "exactly one"),
        ("GET", "/v1/payments?booking=1;DROP", None, 400, "invalid booking id"),
        ("GET", "/v1/subjects/a-1/export?format=xml", None, 400, "format"),
        ("GET", "/v1/subjects/'%20OR%201=1/export", None, 400, "invalid subject id"),
        ("POST", "/v1/sql", b"{not json", 400, ""),
        ("POST", "/v1/sql", b'{"query": 5}', 400, "query"),
        ("POST", "/v1/sql", json.dumps({"query": "x" * 70_000}).encode(), 400, "query"),
        ("POST", "/v1/sql", json.dumps({"query": "SELECT 1 /* ; */ -- x"}).encode(), 200, ""),
        ("POST", "/v1/sql", json.dumps({"query": "SELECT * FROM trail"}).encode(), 400, "trail"),
        ("DELETE", "/v1/verify", None, 405, ""),
        ("GET", "/v2/anything", None, 404, ""),
    ]
    for method, path, body, status, words in cases:
        response = httpx.request(method, served.url + path, content=body, headers=auditor)
        assert response.status_code == status, (path, response.text)
        if status != 200:
            assert response.headers["content-type"] == "application/problem+json", path
            assert response.json()["status"] == status
            assert words in response.json()["detail"], (path, response.text)
            assert "Traceback" not in response.text
    # /healthz reads no token. Past the HTTP parser's header limit uvicorn answers 400 and
    # closes; a client still sending may see a reset instead. Either way the server lives.
    try:
        huge = httpx.get(
            f"{served.url}/healthz", headers={"Authorization": "Bearer " + "a" * 70_000}
        )
    except httpx.TransportError:
        pass
    else:
        assert huge.status_code in (200, 400, 431), huge.text
    assert httpx.get(f"{served.url}/healthz").status_code == 200


def test_a_token_minted_by_the_cli_is_accepted(served: Served) -> None:
    sid, client, _ = _session_with_both(served.events)
    _wait(lambda: _stored_fully(served, sid), "the session to be stored")
    minted = subprocess.run(
        [*CLI, "token", "mint", "--role", "client", "--sub", client, "--session", str(sid),
         "--ttl", "2m"], env=served.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert _trail(served, sid, minted.stdout.strip()).status_code == 200
    bad = subprocess.run(
        [*CLI, "token", "mint", "--role", "root", "--sub", client], env=served.env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: role 'root': use one of client, specialist, auditor, analyst"
    ]


def test_reads_go_on_while_ingest_runs_and_sigterm_drains(served: Served) -> None:
    more: list[Event] = []
    producing = threading.Thread(
        target=lambda: more.extend(fill(served.bootstrap, served.topics, sessions=30, seed=78))
    )
    producing.start()
    reads = 0
    while producing.is_alive() or reads < 5:
        sid, _, _ = _session_with_both(served.events)
        response = _trail(served, sid, token("auditor", "a-1"))
        assert response.status_code == 200
        reads += 1
    producing.join()
    sid, _, _ = _session_with_both(more)
    served.events.extend(more)
    _wait(lambda: _stored_fully(served, sid), "the second batch to be stored")

    served.process.send_signal(signal.SIGTERM)
    _, stderr = served.process.communicate(timeout=120)
    assert served.process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    counts = subprocess.run([*CLI, "counts"], env=served.env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert counts.returncode == 0, counts.stderr
    total = int(counts.stdout.strip().splitlines()[-1].split()[-1])
    assert total == len(served.events)
