// The status panel: the orchestrator, the queue, sessions, and what a person should do next.

import { duration, facts, h, time } from "./dom.js";
import { read, render } from "./panel.js";

export function createStatus(panel) {
  async function refresh() {
    const status = await read(panel, "/api/v1/status");
    if (!status) return;
    render(panel, () => [
      list("Recommended actions", status.recommended_actions, "recommended-actions", (text) => text),
      h("h3", {}, "Orchestrator"),
      orchestrator(status.orchestrator),
      h("h3", {}, "Queue"),
      queue(status.queue),
      h("h3", {}, "Sessions"),
      sessions(status.sessions),
      list("Readiness notes", status.readiness_notes, "readiness-notes", (text) => text),
      list("Recent errors", status.recent_errors, "recent-errors", recentError),
      h("p", { class: "muted" }, "as of ", time(status.generated_at)),
    ]);
  }
  return { refresh };
}

function orchestrator(o) {
  if (!o) return h("p", { class: "muted" }, "none running");
  return facts([
    ["Id", o.id],
    ["Running", o.running ? "yes" : "no"],
    ["Workers", o.workers],
    ["Backend", o.backend],
    ["Heartbeat", time(o.heartbeat_at)],
  ]);
}

function queue(q) {
  const depth = Object.entries(q.depth ?? {}).map(([status, n]) => `${status} ${n}`).join(", ");
  return facts([
    ["Depth", depth],
    ["Ready", q.ready],
    ["Oldest ready", duration(q.oldest_ready_age_s)],
    ["Next ready at", time(q.next_ready_at)],
  ]);
}

function sessions(s) {
  const active = s.active.map((a) =>
    h("li", {}, `${a.issue_id} · ${a.session_id} on ${a.host} (pid ${a.pid}), lease until `, time(a.lease_until)),
  );
  return [
    facts([
      ["Active", s.active.length],
      ["Done (24 h)", s.last_24h.done],
      ["Verify failed (24 h)", s.last_24h.verify_failed],
      ["Errors (24 h)", s.last_24h.error],
      ["Overflowed (24 h)", s.last_24h.overflowed],
    ]),
    active.length ? h("ul", { class: "compact" }, active) : null,
  ];
}

function recentError(e) {
  return [h("strong", {}, e.issue_id), ` ${e.event_type}: ${e.reason} · `, time(e.at)];
}

/** A headed list, or "none" when it is empty. */
function list(title, items = [], testid, item) {
  const body = items.length
    ? h("ul", { class: "compact", "data-testid": testid }, items.map((entry) => h("li", {}, item(entry))))
    : h("p", { class: "muted", "data-testid": testid }, "none");
  return [h("h3", {}, title), body];
}
