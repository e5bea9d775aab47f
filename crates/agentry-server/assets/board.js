// The board: one column per status with its count, a card per issue.

import { describe, get } from "./api.js";
import { h } from "./dom.js";

export const COLUMNS = [
  ["open", "Open"],
  ["in_progress", "In progress"],
  ["needs_review", "Needs review"],
  ["blocked", "Blocked"],
  ["closed", "Closed"],
];

/** The most cards a column shows; its count is always the full number. */
const PER_COLUMN = 200;

/** Builds the columns in `root`; `onSelect(id)` is called when a card is chosen. */
export function createBoard(root, { onSelect }) {
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const columns = new Map(COLUMNS.map(([status, label]) => [status, column(status, label)]));
  root.replaceChildren(problem, h("div", { class: "columns" }, [...columns.values()].map((c) => c.element)));
  let selected = null;
  let latest = 0;

  async function refresh() {
    const ticket = ++latest;
    let pages;
    try {
      pages = await Promise.all(
        COLUMNS.map(([status]) => get(`/api/v1/tasks?status=${status}&limit=${PER_COLUMN}`)),
      );
    } catch (error) {
      problem.textContent = `The board could not be read: ${describe(error)}`;
      problem.hidden = false;
      return;
    }
    if (ticket !== latest) return; // a newer refresh is under way
    problem.hidden = true;
    const focused = document.activeElement?.dataset?.testid;
    COLUMNS.forEach(([status], i) => columns.get(status).show(pages[i], card));
    if (focused) root.querySelector(`[data-testid="${focused}"]`)?.focus();
  }

  function card(issue) {
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: "card",
          "data-testid": `card-${issue.id}`,
          "data-status": issue.status,
          "aria-pressed": String(issue.id === selected),
          onclick: () => {
            mark(issue.id);
            onSelect(issue.id);
          },
        },
        h("span", { class: "card-head" }, h("span", { class: "card-id" }, issue.id), priority(issue.priority)),
        h("span", { class: "card-title" }, issue.title),
      ),
    );
  }

  /** Shows `id` (or nothing, for null) as the chosen card. */
  function mark(id) {
    selected = id;
    for (const button of root.querySelectorAll(".card")) {
      button.setAttribute("aria-pressed", String(button.dataset.testid === `card-${id}`));
    }
  }

  return { refresh, mark };
}

function column(status, label) {
  const count = h("span", { class: "count", "data-testid": `count-${status}` }, "0");
  const list = h("ol", { class: "cards" });
  const heading = h("h2", { id: `column-${status}-heading` }, label, count);
  const element = h(
    "section",
    { class: `column status-${status}`, "data-testid": `column-${status}`, "aria-labelledby": heading.id },
    heading,
    list,
  );
  function show(page, card) {
    count.textContent = String(page.total);
    const cards = [...page.tasks].sort(status === "closed" ? recentFirst : queueOrder).map(card);
    const hidden = page.total - page.tasks.length;
    const more = hidden > 0 ? [h("li", { class: "more" }, `and ${hidden} more`)] : [];
    list.replaceChildren(...cards, ...more);
  }
  return { element, show };
}

function priority(value) {
  return h("span", { class: `priority p${value}`, title: `priority ${value} (0 most urgent)` }, `P${value}`);
}

/** The dispatcher's order: priority, then the oldest ready_at, then id. */
function queueOrder(a, b) {
  return a.priority - b.priority || a.ready_at.localeCompare(b.ready_at) || a.id.localeCompare(b.id);
}

function recentFirst(a, b) {
  return b.updated_at.localeCompare(a.updated_at);
}
