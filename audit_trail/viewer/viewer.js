// The session viewer: reads a viewer token, calls the JSON API, draws what it returns.
// No rules live here: which rows and fields a viewer gets is the API's decision. Every
// value is written with textContent, never parsed as HTML.
"use strict";

const POLL_MS = 3000;
const PEOPLE_EVENTS = {
  participant_joined: "joined",
  participant_disconnected: "dropped",
  participant_reconnected: "reconnected",
  participant_left: "left",
};
const PAYMENT_TYPES = ["payment_attempted", "payment_succeeded", "payment_failed",
  "refund_issued"];
const state = { token: null, session: null, data: null, payments: [], page: 1, poll: null };
const $ = (id) => document.getElementById(id);

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  // The token leaves the address bar (history, copy and paste) as soon as it is read.
  if (params.has("token")) history.replaceState(null, "", location.pathname);
  return { token: params.get("token"), session: params.get("session") };
}

async function api(path) {
  const response = await fetch(path, {
    headers: { Authorization: "Bearer " + state.token },
    cache: "no-store",
    credentials: "omit",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || response.statusText);
    error.status = response.status;
    error.title = body.title || "Error";
    throw error;
  }
  return body;
}

function showProblem(error) {
  const box = $("problem");
  box.textContent = (error.title ? error.title + ": " : "") + error.message;
  box.hidden = false;
  $("status").textContent = "Not shown.";
}

function clearProblem() { $("problem").hidden = true; }

function cell(row, text, label, title) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (label) td.dataset.label = label;
  if (title) td.title = title;
  row.appendChild(td);
  return td;
}

function when(iso) {
  const date = new Date(iso);
  return { local: date.toLocaleString(), utc: date.toISOString().replace(".000Z", "Z") + " UTC" };
}

function device(e) {
  const parts = [e.device_kind, [e.device_os, e.device_os_version].filter(Boolean).join(" "),
    [e.device_browser, e.device_browser_version].filter(Boolean).join(" "),
    e.device_app_version && "app " + e.device_app_version].filter(Boolean);
  return parts.join(", ");
}

function network(e) {
  return [e.network_ip, [e.network_city, e.network_region, e.network_country]
    .filter(Boolean).join(", ")].filter(Boolean).join(" · ");
}

function fillSelect(select, values) {
  const chosen = select.value;
  select.replaceChildren(new Option("All", ""), ...values.map((v) => new Option(v, v)));
  select.value = values.includes(chosen) ? chosen : "";
}

function drawTimeline() {
  const events = state.data.events;
  const type = $("filter-type").value;
  const actor = $("filter-actor").value;
  const hasNetwork = events.some((e) => network(e));
  document.querySelectorAll(".network").forEach((th) => { th.hidden = !hasNetwork; });
  const rows = events.filter((e) => (!type || e.event_type === type)
    && (!actor || e.actor_id === actor || e.participant_id === actor));
  const body = $("timeline").tBodies[0];
  body.replaceChildren(...rows.map((e) => {
    const tr = document.createElement("tr");
    const t = when(e.occurred_at);
    cell(tr, t.local, "Time", t.utc);
    cell(tr, e.event_type, "Event");
    cell(tr, `${e.actor_role || ""} ${e.actor_id || ""}`.trim(), "Who");
    cell(tr, device(e), "Device");
    if (hasNetwork) cell(tr, network(e), "Network");
    const check = e.integrity || { status: "unknown", detail: "not checked" };
    const ok = check.status === "ok";
    cell(tr, ok ? "✓ intact" : "✗ fails: " + check.status.replace("_", " "), "Integrity",
      check.detail);
    tr.dataset.integrity = check.status;
    if (!ok) tr.classList.add("tampered");
    return tr;
  }));
}

function drawParticipants() {
  const events = state.data.events;
  const people = new Map();
  for (const e of events) {
    for (const [role, id] of [["client", e.client_id], ["specialist", e.specialist_id]]) {
      if (id && !people.has(id)) people.set(id, { role, moves: [] });
    }
    const move = PEOPLE_EVENTS[e.event_type];
    if (move && e.participant_id) {
      if (!people.has(e.participant_id)) {
        people.set(e.participant_id, { role: e.participant_role || "", moves: [] });
      }
      people.get(e.participant_id).moves.push([move, e.occurred_at]);
    }
  }
  $("participants").replaceChildren(...[...people].map(([id, who]) => {
    const card = document.createElement("section");
    card.className = "party";
    const h = document.createElement("h4");
    h.textContent = `${who.role} ${id}`;
    const list = document.createElement("ul");
    for (const [move, at] of who.moves) {
      const li = document.createElement("li");
      const t = when(at);
      li.textContent = `${move} ${t.local}`;
      li.title = t.utc;
      list.appendChild(li);
    }
    if (!who.moves.length) list.appendChild(Object.assign(document.createElement("li"),
      { textContent: "no joins recorded" }));
    card.append(h, list);
    return card;
  }));
}

function drawPayments() {
  const body = $("payments").tBodies[0];
  body.replaceChildren(...state.payments.map((e) => {
    const tr = document.createElement("tr");
    const t = when(e.occurred_at);
    cell(tr, t.local, "Time", t.utc);
    cell(tr, e.event_type, "Event");
    cell(tr, e.amount_minor == null ? "" : `${(e.amount_minor / 100).toFixed(2)} ${e.currency
      || ""}`, "Amount");
    cell(tr, e.failure_code || e.failure_message || e.event_type.replace("payment_", ""),
      "Outcome");
    return tr;
  }));
  $("payments").hidden = !state.payments.length;
  $("no-payments").hidden = !!state.payments.length;
}

function draw() {
  const events = state.data.events;
  $("session-id").textContent = state.session;
  fillSelect($("filter-type"), [...new Set(events.map((e) => e.event_type))].sort());
  fillSelect($("filter-actor"), [...new Set(events.map((e) => e.actor_id).filter(Boolean))].sort());
  drawParticipants();
  drawPayments();
  drawTimeline();
  const failing = events.filter((e) => e.integrity && e.integrity.status !== "ok").length;
  $("integrity-summary").textContent = failing
    ? `${failing} of ${events.length} rows FAIL the integrity check`
    : `all ${events.length} rows pass the integrity check`;
  const link = $("download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([JSON.stringify(state.data, null, 2)],
    { type: "application/json" }));
  link.download = `session-${state.session}.json`;
}

async function loadSession(first) {
  // own_network=false: network fields for auditors only (the API applies it per role).
  const data = await api(`/v1/sessions/${encodeURIComponent(state.session)}/trail`
    + "?integrity=true&own_network=false");
  const changed = JSON.stringify(data) !== JSON.stringify(state.data);
  state.data = data;
  if (changed) {
    const bookings = [...new Set(data.events.map((e) => e.booking_id).filter(Boolean))];
    state.payments = [];
    for (const booking of bookings) {
      const paid = await api(`/v1/payments?booking=${encodeURIComponent(booking)}`);
      state.payments.push(...paid.events.filter((e) => PAYMENT_TYPES.includes(e.event_type)));
    }
    draw();
  }
  $("status").textContent = `${data.events.length} events · updated ${
    new Date().toLocaleTimeString()} · live`;
  if (first) $("session").hidden = false;
}

async function openSession(session) {
  state.session = session;
  state.data = null;
  clearProblem();
  clearTimeout(state.poll);
  try {
    await loadSession(true);
    $("timeline-heading").focus();
  } catch (error) {
    $("session").hidden = true;
    showProblem(error);
    return;
  }
  const tick = async () => {
    try {
      await loadSession(false);
      clearProblem();
    } catch (error) {
      $("status").textContent = "Live updates paused: " + error.message;
    }
    state.poll = setTimeout(tick, POLL_MS);
  };
  state.poll = setTimeout(tick, POLL_MS);
}

function start(token, session) {
  if (!token) return;
  state.token = token;
  $("status").textContent = "Loading…";
  if (session) {
    openSession(session);
  } else {
    $("search").hidden = false;
    $("status").textContent = "Search for sessions (auditors).";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("filter-type").addEventListener("change", drawTimeline);
  $("filter-actor").addEventListener("change", drawTimeline);
  // An embedding page may post the token instead of putting it in the address.
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (event.source !== window.parent || !data || data.type !== "audit-trail-viewer") return;
    start(String(data.token || ""), data.session ? String(data.session) : null);
  });
  const { token, session } = readFragment();
  start(token, session);
});
