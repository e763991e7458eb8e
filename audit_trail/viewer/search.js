// The auditor's search: sessions by person, time range and event type, paged. Uses
// viewer.js's helpers ($, api, cell, when, showProblem, openSession); the API refuses
// it to anyone but an auditor.
"use strict";

function isoFrom(local) { return local ? new Date(local).toISOString() : null; }

async function search(page) {
  const form = new FormData($("search-form"));
  const query = new URLSearchParams({ page: String(page), page_size: "20" });
  for (const name of ["person", "event_type"]) {
    const value = String(form.get(name) || "").trim();
    if (value) query.set(name, value);
  }
  for (const name of ["since", "until"]) {
    const value = isoFrom(form.get(name));
    if (value) query.set(name, value);
  }
  try {
    const found = await api(`/v1/sessions?${query}`);
    clearProblem();
    state.page = found.page;
    const body = $("results").tBodies[0];
    body.replaceChildren(...found.sessions.map((s) => {
      const tr = document.createElement("tr");
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = s.session_id;
      open.addEventListener("click", () => openSession(s.session_id));
      cell(tr, "", "Session").appendChild(open);
      const t = when(s.last_at);
      cell(tr, t.local, "Last event", t.utc);
      cell(tr, s.events, "Events");
      cell(tr, s.people.join(", "), "People");
      return tr;
    }));
    $("results").hidden = false;
    $("page-label").textContent = `Page ${found.page}` + (found.sessions.length ? "" : ": none");
    $("prev-page").hidden = found.page <= 1;
    $("next-page").hidden = !found.more;
    $("status").textContent = `${found.sessions.length} sessions on page ${found.page}`;
  } catch (error) {
    showProblem(error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(1); });
  $("prev-page").addEventListener("click", () => search(state.page - 1));
  $("next-page").addEventListener("click", () => search(state.page + 1));
});
