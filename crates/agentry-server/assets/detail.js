// One issue in detail: its facts, open question, agent runs, last error and review, and its
// event stream as it happens.

import { describe, get } from "./api.js";
import { batched, clock, duration, facts, h, time, usd } from "./dom.js";
import { follow, showState } from "./live.js";
import { openQuestion } from "./question.js";

/** The most events kept on the page for one issue; older ones scroll away. */
const MAX_EVENTS = 500;

const HINT = "Select an issue to see its sessions and its events as they happen.";

/** Shows issues in `root`; `onClose` is called when the user closes the detail. */
export function createDetail(root, { onClose }) {
  let current = null;
  showHint();

  async function show(id) {
    current?.stop();
    const stream = h("span", { class: "live", "data-testid": "detail-stream" });
    const view = {
      id,
      info: h("div", { class: "detail-info" }, "Loading…"),
      events: h("ol", { class: "events", "data-testid": "detail-events", "aria-live": "polite" }),
      seen: new Set(),
      stop: () => {},
    };
    current = view;
    const close = h("button", { type: "button", class: "close", "aria-label": "Close the detail", onclick: hide }, "×");
    root.replaceChildren(
      h("div", { class: "detail-head" }, h("h2", { "data-testid": "detail-id" }, id), close),
      view.info,
      h("h3", {}, "Events ", stream),
      view.events,
    );
    const detail = await load(view);
    if (current !== view || !detail) return;
    detail.events.forEach((event) => append(view, event));
    const after = detail.events.at(-1)?.id ?? 0;
    const refresh = batched(() => load(view), 300);
    view.stop = follow(`/api/v1/tasks/${encodeURIComponent(id)}/events?after=${after}`, {
      onEvent: (event) => {
        append(view, event);
        refresh();
      },
      onState: (state) => showState(stream, state),
    });
  }

  function hide() {
    current?.stop();
    current = null;
    showHint();
    onClose();
  }

  function showHint() {
    root.replaceChildren(h("p", { class: "hint" }, HINT));
  }

  /** Reads the issue again when it is the one shown (after a change made elsewhere). */
  function reload(id) {
    if (current?.id === id) load(current);
  }

  async function load(view) {
    let detail;
    try {
      detail = await get(`/api/v1/tasks/${encodeURIComponent(view.id)}`);
    } catch (error) {
      if (current === view) view.info.replaceChildren(h("p", { class: "problem", role: "alert" }, describe(error)));
      return null;
    }
    if (current === view) view.info.replaceChildren(summary(detail, () => load(view)));
    return detail;
  }

  return { show, reload };
}

/** `reload()` reads the issue again (after the page changed it). */
function summary(detail, reload) {
  const m = detail.metrics;
  return h(
    "div",
    {},
    h("p", { class: "detail-title", "data-testid": "detail-title" }, detail.title),
    h(
      "p",
      { class: "badges" },
      h("span", { class: `badge status-${detail.status}`, "data-testid": "detail-status" }, detail.status),
      h("span", { class: "badge" }, `P${detail.priority}`),
      detail.labels.map((label) => h("span", { class: "badge label" }, label)),
      strictReview(detail.review_hard),
    ),
    detail.body ? h("p", { class: "body" }, detail.body) : null,
    openQuestion(detail.id, detail.question, reload),
    facts([
      ["Sessions", m.sessions],
      ["Review attempts", `${m.spec_attempts} spec, ${m.quality_attempts} quality`],
      ["Tokens", m.tokens.toLocaleString()],
      ["Cost", usd(m.cost_usd)],
      ["Agent time", duration(m.duration_s)],
      ["Review", review(detail.review)],
      ["Updated", time(detail.updated_at)],
    ]),
    lastError(detail.last_error),
    runs(detail.runs),
  );
}

/** The review assignment; `undefined` means a server that does not report it. */
function review(assignment) {
  if (assignment === undefined) return "not available";
  if (assignment === null) return "not assigned";
  return h("span", { "data-testid": "detail-review" }, assignment.reviewer, " since ", time(assignment.assigned_at));
}

/** The `review-hard` mark; the server sends it only while it waits for a strict review. */
function strictReview(mark) {
  if (!mark) return null;
  return h("span", { class: "badge strict", "data-testid": "detail-review-hard", title: `asked ${mark.requested_at}` }, "strict review");
}

function lastError(error) {
  if (error === null || error === undefined) return null;
  const items = Array.isArray(error) ? error : [error];
  return h(
    "div",
    { class: "last-error", "data-testid": "detail-last-error" },
    h("h3", {}, "Last error"),
    h("ul", {}, items.map((item) => h("li", {}, typeof item === "string" ? item : JSON.stringify(item)))),
  );
}

function runs(list) {
  const heading = h("h3", {}, "Agent runs");
  if (list === undefined) return [heading, h("p", { class: "muted" }, "not available")];
  if (list.length === 0) return [heading, h("p", { class: "muted" }, "none yet")];
  const head = ["Role", "Agent", "Started", "Took", "Result", "Tokens in/out", "Cost"];
  return [
    heading,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "runs", "data-testid": "detail-runs" },
        h("thead", {}, h("tr", {}, head.map((label) => h("th", { scope: "col" }, label)))),
        h("tbody", {}, list.map(run)),
      ),
    ),
  ];
}

function run(agentRun) {
  const agent = agentRun.model ? `${agentRun.backend} (${agentRun.model})` : agentRun.backend;
  const result = agentRun.error ?? (agentRun.exit_code === null ? "—" : `exit ${agentRun.exit_code}`);
  const tokens = `${agentRun.tokens_in ?? "—"} / ${agentRun.tokens_out ?? "—"}`;
  return h(
    "tr",
    { "data-role": agentRun.role },
    h("td", {}, agentRun.role),
    h("td", {}, agent),
    h("td", {}, clock(agentRun.started_at)),
    h("td", {}, agentRun.ended_at ? duration(seconds(agentRun.started_at, agentRun.ended_at)) : "running"),
    h("td", { class: agentRun.error ? "problem" : "" }, result),
    h("td", {}, tokens),
    h("td", {}, usd(agentRun.cost_usd)),
  );
}

function seconds(start, end) {
  return (Date.parse(end) - Date.parse(start)) / 1000;
}

/** Adds an event to the list once (a resumed stream may repeat one), keeping the newest in view. */
function append(view, event) {
  if (view.seen.has(event.id)) return;
  view.seen.add(event.id);
  const list = view.events;
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  list.append(
    h(
      "li",
      { "data-event-type": event.event_type, "data-event-id": event.id },
      clock(event.created_at),
      h("span", { class: "event-type" }, event.event_type),
      h("span", { class: "event-data" }, describeEvent(event)),
    ),
  );
  while (list.children.length > MAX_EVENTS) list.firstElementChild.remove();
  if (atEnd) list.scrollTop = list.scrollHeight;
}

/** Fields every session event carries, shown elsewhere or of no use to a reader. */
const ROUTINE = new Set(["event_type", "issue_id", "task_id", "session_id", "orchestrator_id", "schema_version", "timestamp"]);

function describeEvent(event) {
  const data = event.data ?? {};
  if (event.event_type === "STATUS_CHANGED") {
    return `${data.from} → ${data.to}${data.reason ? ` (${data.reason})` : ""}`;
  }
  const text = Object.entries(data)
    .filter(([key, value]) => !ROUTINE.has(key) && value !== null && !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
