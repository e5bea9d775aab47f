// Review assignments: who reviews what, and a form to assign a reviewer.

import { describe, send } from "./api.js";
import { h, time } from "./dom.js";
import { read, render } from "./panel.js";

/** `onAssigned(taskId)` is called after an assignment was saved. */
export function createReviews(panel, { onAssigned }) {
  const form = panel.querySelector("form");
  const result = form.querySelector(".result");

  async function refresh() {
    const reviews = await read(panel, "/api/v1/reviews");
    form.hidden = panel.dataset.state === "unavailable";
    if (reviews) render(panel, () => table(reviews));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const taskId = fields.get("task_id").trim();
    const reviewer = fields.get("reviewer").trim();
    try {
      await send("POST", "/api/v1/reviews/assign", { task_id: taskId, reviewer });
    } catch (error) {
      result.textContent = `Not assigned: ${describe(error)}`;
      return;
    }
    result.textContent = `${taskId} assigned to ${reviewer}.`;
    refresh();
    onAssigned(taskId);
  });

  /** Offers `id` in the form, as the issue the user is looking at. */
  function suggest(id) {
    form.elements.task_id.value = id;
  }

  return { refresh, suggest };
}

function table(reviews) {
  if (reviews.length === 0) return h("p", { class: "muted", "data-testid": "reviews-list" }, "no assignments");
  const head = ["Issue", "Title", "Status", "Reviewer", "Since"];
  const rows = reviews.map((r) =>
    h(
      "tr",
      { "data-testid": `review-${r.task_id}` },
      h("td", {}, r.task_id),
      h("td", {}, r.title),
      h("td", {}, r.status),
      h("td", {}, r.reviewer),
      h("td", {}, time(r.assigned_at)),
    ),
  );
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { "data-testid": "reviews-list" },
      h("thead", {}, h("tr", {}, head.map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, rows),
    ),
  );
}
