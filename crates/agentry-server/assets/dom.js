// Small DOM helpers shared by the dashboard's modules.

/**
 * Builds an element. `attrs` values: functions under `on…` keys become listeners, `true` an
 * empty attribute, `false`/null/undefined nothing. Children are nodes or text (nulls skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  element.append(...nodes(children));
  return element;
}

function nodes(children) {
  return children
    .flat(Infinity)
    .filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : String(child)));
}

/**
 * Runs `fn` once, `ms` after the first of a burst of calls: every call is followed by a run
 * within `ms`, and a steady stream of calls cannot postpone it forever.
 */
export function batched(fn, ms) {
  let timer = null;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
}

/** A timestamp as local time, with the full UTC value on hover. */
export function time(timestamp) {
  if (!timestamp) return "—";
  const date = new Date(timestamp);
  return h("time", { datetime: timestamp, title: timestamp }, date.toLocaleString());
}

/** Seconds as "42 s", "3 min", "2.5 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A cost in US dollars, or "—" when unknown. */
export function usd(cost) {
  if (cost === null || cost === undefined) return "—";
  return cost === 0 ? "$0" : `$${cost.toFixed(cost < 1 ? 4 : 2)}`;
}

/** A definition list from [label, value] pairs. */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value ?? "—")]));
}

/** A timestamp as the local time of day, with the full UTC value on hover. */
export function clock(timestamp) {
  return h("time", { datetime: timestamp, title: timestamp }, new Date(timestamp).toLocaleTimeString());
}
