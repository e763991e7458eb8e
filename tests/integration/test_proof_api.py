"""Proof routes of the HTTP API on a real chDB store filled through the real broker:
whoever may read an event's session gets its proof (auditors any), consistency proofs,
the latest checkpoints and the public key; the subject export can carry each proof."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from audit_trail.api.app import ApiContext, create_app
from audit_trail.stack import TopicLayout, ensure_topics
from audit_trail.tokens import hs256_key, mint
from ledger import EmbeddedStore
from ledger.merkle import Checkpointer, NoteSigner, check_bundle
from ledger.privacy import RowOpener, StoreKeyStore
from ledger.reader import TrailReader
from ledger.retention import RetentionPolicy
from producers.events import Event
from tests.support.ingest import fill, service

pytestmark = pytest.mark.integration
SECRET = "proof-api-secret-" + "x" * 32


@dataclass
class Api:
    client: TestClient
    store: EmbeddedStore
    signer: NoteSigner
    events: list[Event]
    topics: TopicLayout


def _token(role: str, sub: str, session: object = None) -> dict[str, str]:
    value = mint(
        role=role, sub=sub, ttl_s=600, kid="t1", algorithm="HS256",
        signing_key=SECRET.encode(), session=None if session is None else str(session),
    )  # fmt: skip
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"pa.s-{suffix}", f"pa.t-{suffix}", f"pa.d-{suffix}", f"pa.e-{suffix}")
    ensure_topics(kafka_bootstrap, topics, partitions=2)
    events = fill(kafka_bootstrap, topics, sessions=10, seed=5)
    store = EmbeddedStore(Path(tmp_path_factory.mktemp("proof-api")) / "store")
    store.migrate()
    keys = StoreKeyStore(store, b"k" * 32)
    signer = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
    tree = Checkpointer(store, signer, "test.audit-trail")
    service(kafka_bootstrap, topics, store, keys=keys, tree=tree).run(until_idle=True)
    ctx = ApiContext(
        reader=TrailReader(store, RowOpener(keys)),
        store=store,
        keys={"t1": hs256_key("t1", SECRET)},
        topics=[topics.session, topics.transaction, topics.erasures],
        policy=RetentionPolicy(),
        registry=CollectorRegistry(),
        readiness=lambda: [],
        verifier=signer.verifier,
    )
    try:
        yield Api(TestClient(create_app(ctx)), store, signer, events, topics)
    finally:
        store.close()


def _completed(events: list[Event]) -> Event:
    return next(e for e in events if e.event_type == "session_completed")


def test_a_party_gets_the_proof_of_an_event_of_their_session_and_it_verifies(api: Api) -> None:
    done = _completed(api.events)
    client, specialist = done.client_id, done.specialist_id  # type: ignore[attr-defined]
    url = f"/v1/events/{done.event_id}/proof"
    for who in (_token("client", client), _token("specialist", specialist),
                _token("auditor", "aud-1"), _token("client", client, done.session_id)):  # fmt: skip
        got = api.client.get(url, headers=who)
        assert got.status_code == 200, got.text
        bundle = got.json()
        assert bundle["event_id"] == str(done.event_id)
        assert all(
            line.startswith("ok") for line in check_bundle(bundle, api.signer.verifier).lines
        )


def test_others_unknown_and_bound_elsewhere_are_refused_alike(api: Api) -> None:
    done = _completed(api.events)
    url = f"/v1/events/{done.event_id}/proof"
    unknown = f"/v1/events/{uuid.uuid4()}/proof"
    stranger = _token("client", "client-nobody")
    refused = [
        api.client.get(url, headers=stranger),
        api.client.get(unknown, headers=_token("client", done.client_id)),  # type: ignore[attr-defined]
        api.client.get(url, headers=_token("client", done.client_id, uuid.uuid4())),  # type: ignore[attr-defined]
        api.client.get(url, headers=_token("analyst", "an-1")),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert all(r.json()["title"] == "Not permitted" for r in refused)
    assert api.client.get(unknown, headers=_token("auditor", "aud-1")).status_code == 404
    assert api.client.get(url).status_code == 401
    for bad in ("not-a-uuid", "x" * 5000, "1' OR '1'='1", "--"):
        got = api.client.get(f"/v1/events/{bad}/proof", headers=_token("auditor", "aud-1"))
        assert got.status_code in (400, 404), (bad, got.status_code)
        assert "Traceback" not in got.text


def test_checkpoints_consistency_and_public_key(api: Api) -> None:
    auditor = _token("auditor", "aud-1")
    assert api.client.get("/v1/checkpoints/latest").status_code == 401
    latest = api.client.get("/v1/checkpoints/latest", headers=_token("analyst", "an-1")).json()
    notes = latest["checkpoints"]
    assert notes and all(api.signer.verifier.open(n["note"]) for n in notes)
    key = api.client.get("/v1/checkpoints/public-key").json()  # public: no token
    assert key["key"] == str(api.signer.verifier)

    first = notes[0]
    sizes = api.store.query(
        "SELECT tree_size FROM merkle_checkpoints WHERE kafka_topic = {t:String} "
        "AND kafka_partition = {p:UInt16} ORDER BY tree_size",
        {"t": first["topic"], "p": first["partition"]},
    )
    old, new = int(sizes[0][0]), int(sizes[-1][0])
    query = {"topic": first["topic"], "partition": first["partition"], "old": old, "new": new}
    got = api.client.get("/v1/proofs/consistency", params=query, headers=auditor)
    assert got.status_code == 200, got.text
    assert check_bundle(got.json(), api.signer.verifier).lines
    wrong = [
        {**query, "old": new + 1},  # old beyond new
        {**query, "topic": "someone.elses.topic"},
        {**query, "partition": -1},
        {**query, "new": "ten"},
    ]
    for params in wrong:
        answer = api.client.get("/v1/proofs/consistency", params=params, headers=auditor)
        assert answer.status_code == 400, (params, answer.text)
    unsigned = {**query, "new": new + 12345}
    assert (
        api.client.get("/v1/proofs/consistency", params=unsigned, headers=auditor).status_code
        == 404
    )


def test_the_subject_export_carries_each_events_proof(api: Api) -> None:
    done = _completed(api.events)
    client = done.client_id  # type: ignore[attr-defined]
    url = f"/v1/subjects/{client}/export"
    got = api.client.get(url, params={"include_proofs": "true"}, headers=_token("client", client))
    assert got.status_code == 200, got.text
    lines = [json.loads(line) for line in got.text.splitlines()]
    assert lines and all("proof" in line for line in lines)
    for line in lines:
        assert check_bundle(line["proof"], api.signer.verifier).lines
    csv = api.client.get(
        url, params={"include_proofs": "true", "format": "csv"}, headers=_token("client", client)
    )
    assert csv.status_code == 400


def test_a_tree_size_never_signed_is_404_saying_so(api: Api) -> None:
    auditor = _token("auditor", "aud-1")
    params = {"topic": api.topics.erasures, "partition": 0, "old": 0, "new": 1}
    got = api.client.get("/v1/proofs/consistency", headers=auditor, params=params)
    assert got.status_code == 404
    assert "checkpoint" in got.json()["detail"]
