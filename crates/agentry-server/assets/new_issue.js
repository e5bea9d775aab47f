// The "new issue" form.

import { describe, send } from "./api.js";

/** `onCreated(issue)` is called with the issue the server made. */
export function createNewIssue(form, { onCreated }) {
  const result = form.querySelector(".result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let issue;
    try {
      issue = await send("POST", "/api/v1/tasks", task(new FormData(form)));
    } catch (error) {
      result.textContent = `Not created: ${describe(error)}`;
      return;
    }
    form.reset();
    result.textContent = `Created ${issue.id}.`;
    onCreated(issue);
  });
}

/** The request body: empty fields are left out so that the server's defaults apply. */
function task(fields) {
  const body = { title: fields.get("title").trim(), priority: Number(fields.get("priority")) };
  const text = fields.get("body").trim();
  const labels = split(fields.get("labels"), ",");
  const verify = split(fields.get("verify"), "\n");
  if (text) body.body = text;
  if (labels.length) body.labels = labels;
  if (verify.length) body.verify = verify;
  return body;
}

function split(text, separator) {
  return text
    .split(separator)
    .map((part) => part.trim())
    .filter(Boolean);
}
