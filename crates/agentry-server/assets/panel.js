// The side panels (status, reviews, flags): each reads one endpoint and shows "not available"
// when this server does not have it, without affecting the rest of the page.

import { describe, get, notAvailable } from "./api.js";
import { h } from "./dom.js";

/**
 * Reads `path` for `panel`; on failure shows why in the panel (`data-state` "unavailable" for
 * a 404, "error" otherwise) and returns null.
 */
export async function read(panel, path) {
  try {
    return await get(path);
  } catch (error) {
    if (notAvailable(error)) fill(panel, "unavailable", h("p", { class: "muted" }, "not available on this server"));
    else fill(panel, "error", h("p", { class: "problem", role: "alert" }, describe(error)));
    return null;
  }
}

/**
 * Fills the panel with what `build()` returns, or with the reason it could not: an answer of a
 * shape this page does not know must not break the rest of it.
 */
export function render(panel, build) {
  try {
    fill(panel, "ready", build());
  } catch (error) {
    fill(panel, "error", h("p", { class: "problem", role: "alert" }, `could not show this: ${error.message}`));
  }
}

function fill(panel, state, content) {
  panel.dataset.state = state;
  panel.querySelector(".panel-body").replaceChildren(...[content].flat(Infinity).filter(Boolean));
}
