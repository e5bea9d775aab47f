// Feature flags, each a switch.

import { describe, send } from "./api.js";
import { h, time } from "./dom.js";
import { read, render } from "./panel.js";

export function createFlags(panel) {
  const result = panel.querySelector(".result");

  async function refresh() {
    const flags = await read(panel, "/api/v1/flags");
    if (flags) render(panel, () => h("ul", { class: "flags" }, flags.map(flag)));
  }

  function flag(f) {
    const box = h("input", {
      type: "checkbox",
      checked: f.enabled,
      "data-testid": `flag-${f.name}`,
      onchange: () => toggle(f.name, box),
    });
    return h(
      "li",
      {},
      h("label", {}, box, " ", h("code", {}, f.name)),
      h("span", { class: "muted" }, `(${f.source}`, f.updated_at ? [", changed ", time(f.updated_at)] : "", ")"),
    );
  }

  async function toggle(name, box) {
    const enabled = box.checked;
    box.disabled = true;
    try {
      await send("PUT", `/api/v1/flags/${encodeURIComponent(name)}`, { enabled });
      result.textContent = `${name} ${enabled ? "on" : "off"}.`;
      await refresh();
    } catch (error) {
      box.checked = !enabled;
      result.textContent = `${name} unchanged: ${describe(error)}`;
    } finally {
      box.disabled = false;
    }
  }

  return { refresh };
}
