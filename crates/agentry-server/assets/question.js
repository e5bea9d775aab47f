// The question an issue is blocked on, and the form that answers it.

import { describe, send } from "./api.js";
import { h, time } from "./dom.js";

/**
 * The open question of issue `id`, or null when it has none. `onAnswered()` is called once the
 * server has taken the answer (the issue is back in the queue).
 */
export function openQuestion(id, question, onAnswered) {
  if (!question) return null;
  const input = h("textarea", { name: "answer", rows: 2, required: true, "data-testid": "answer-input" });
  const result = h("p", { class: "result", role: "status", "data-testid": "answer-result" });
  const form = h(
    "form",
    { "data-testid": "answer-form", onsubmit: (event) => submit(event, id, input, result, onAnswered) },
    h("label", {}, "Answer", input),
    h("button", { type: "submit" }, "Answer and requeue"),
    result,
  );
  return h(
    "div",
    { class: "question", "data-testid": "detail-question" },
    h("h3", {}, "Blocked on a question ", h("span", { class: "muted" }, "asked ", time(question.asked_at))),
    h("p", { class: "question-text", "data-testid": "question-text" }, question.question),
    question.context ? h("p", { class: "muted" }, question.context) : null,
    options(question, input),
    form,
  );
}

/** The options as buttons that fill in the answer; the recommended one is marked. */
function options(question, input) {
  if (!question.options?.length) return null;
  return h(
    "ul",
    { class: "options" },
    question.options.map((option) =>
      h(
        "li",
        {},
        h("button", { type: "button", class: "option", onclick: () => (input.value = option) }, option),
        option === question.recommended ? h("span", { class: "muted" }, " recommended") : null,
      ),
    ),
  );
}

async function submit(event, id, input, result, onAnswered) {
  event.preventDefault();
  try {
    await send("POST", `/api/v1/tasks/${encodeURIComponent(id)}/answer`, { answer: input.value.trim() });
  } catch (error) {
    result.textContent = `Not answered: ${describe(error)}`;
    return;
  }
  result.textContent = "Answered; the issue is back in the queue.";
  onAnswered();
}
