// Drives agentry's dashboard in a headless Chromium while an issue crosses the board.
//
// Usage: node dashboard.mjs URL
//
// URL is the dashboard's URL that a running `agentry serve` (with its dispatcher) printed, the
// service token it made in its fragment; crates/agentry/tests/browser.rs sets it up, and:
//   DASHBOARD_TOKEN       the service token, as the server wrote it to its runtime folder
//   DASHBOARD_BLOCKER     a blocked issue; the issue made here depends on it, so that it stays
//                         open until this script closes the blocker
//   DASHBOARD_ASKING      an issue blocked on a question, answered here from its detail
//   DASHBOARD_GATE        a FIFO the implementer reads before it works, so that the issue stays
//                         in progress until this script writes to it
//   DASHBOARD_SCREENSHOT  where to save the page as PNG (also when a step fails)
//   CHROMIUM              the browser (default /usr/bin/chromium)
//
// Prints one line per step; exits 1 with the failing step and its reason.

import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

/** A generous bound on each step (waits end as soon as the page shows what they wait for). */
const STEP_MS = 30_000;

const [url] = process.argv.slice(2);
const env = (name) => process.env[name] ?? fail(`${name} is not set`);
if (!url) fail("usage: node dashboard.mjs URL");
const token = env("DASHBOARD_TOKEN");
const blocker = env("DASHBOARD_BLOCKER");
const asking = env("DASHBOARD_ASKING");
const gate = env("DASHBOARD_GATE");
const screenshot = env("DASHBOARD_SCREENSHOT");

function fail(message) {
  console.error(`dashboard test: ${message}`);
  process.exit(1);
}

/** Calls the API as a client other than the page would. */
async function api(method, path, body) {
  const response = await fetch(new URL(path, url), {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

/** The HTTP status of a GET, without reading its body (an event stream never ends). */
async function statusOf(path) {
  const controller = new AbortController();
  const response = await fetch(new URL(path, url), { signal: controller.signal });
  controller.abort();
  return response.status;
}

const testid = (id) => `[data-testid="${id}"]`;
const cardIn = (column, id) => `${testid(`column-${column}`)} ${testid(`card-${id}`)}`;

async function step(name, run) {
  try {
    await run();
  } catch (error) {
    throw new Error(`${name}: ${error.message.split("\n")[0]}`);
  }
  console.log(`ok - ${name}`);
}

function bounded(promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${STEP_MS} ms`)), STEP_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function waitForText(page, selector, text) {
  await page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent.trim() === text,
    [selector, text],
    { timeout: STEP_MS },
  );
}

/** Waits for a panel to show its endpoint's answer; says what it shows instead if it does not. */
async function panelReady(page, name) {
  const panel = page.locator(testid(`${name}-panel`));
  try {
    await page.waitForSelector(`${testid(`${name}-panel`)}[data-state="ready"]`, { timeout: STEP_MS });
  } catch {
    const state = await panel.getAttribute("data-state");
    const text = (await panel.locator(".panel-body").textContent()).trim();
    throw new Error(`the ${name} panel is ${state}: ${text}`);
  }
}

async function run(page) {
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(STEP_MS);

  await step("the dashboard loads, takes the token from its URL and hides it", async () => {
    await page.goto(url);
    await page.waitForSelector(testid("column-open"));
    if (page.url().includes(token)) throw new Error(`the address bar still shows it: ${page.url()}`);
    const shown = await page.inputValue(testid("token-input"));
    if (shown !== token) throw new Error(`the token field holds "${shown}"`);
  });

  await step("the token lasts the tab's session", async () => {
    await page.reload();
    await page.waitForSelector(testid("column-open"));
    const shown = await page.inputValue(testid("token-input"));
    if (shown !== token) throw new Error(`after a reload the token field holds "${shown}"`);
  });

  await step("the board follows the live event stream", async () => {
    const settled = `${testid("live-status")}:is([data-state="live"], [data-state="unavailable"])`;
    const state = await (await page.waitForSelector(settled)).getAttribute("data-state");
    if (state !== "live") {
      const shown = await page.textContent(testid("live-status"));
      throw new Error(`it shows "${shown}"; GET /api/v1/events answers ${await statusOf("/api/v1/events")}`);
    }
  });

  await step("the blocked dependency and the issue asking a question are in their column", async () => {
    await page.waitForSelector(cardIn("blocked", blocker));
    await page.waitForSelector(cardIn("blocked", asking));
  });

  const title = "say hello from the browser test";
  const issue = await api("POST", "/api/v1/tasks", {
    title,
    body: "Write done.txt.",
    priority: 1,
    verify: ["test -f done.txt"],
    depends_on: [blocker],
  });

  await step("a new issue appears in open, counted", async () => {
    await page.waitForSelector(cardIn("open", issue.id));
    await waitForText(page, testid("count-open"), "1");
  });

  await step("its card opens its detail and its event stream", async () => {
    await page.click(testid(`card-${issue.id}`));
    await waitForText(page, testid("detail-title"), title);
    await page.waitForSelector(`${testid("detail-events")} li[data-event-type="ISSUE_CREATED"]`);
    await page.waitForSelector(`${testid("detail-stream")}[data-state="live"]`);
  });

  await api("PATCH", `/api/v1/tasks/${blocker}`, { status: "closed", reason: "the test lets the issue go" });

  await step("closing its dependency sends it to in progress; its session starts live", async () => {
    await page.waitForSelector(cardIn("closed", blocker));
    await page.waitForSelector(cardIn("in_progress", issue.id));
    await page.waitForSelector(`${testid("detail-events")} li[data-event-type="SESSION_START"]`);
    await waitForText(page, testid("detail-status"), "in_progress");
  });

  // Opening the FIFO waits for the implementer to open it: the step's bound covers that too.
  await step("the implementer is let go", () => bounded(writeFile(gate, "go\n")));

  await step("the session passes review: the card reaches needs review", async () => {
    await page.waitForSelector(cardIn("needs_review", issue.id));
    await waitForText(page, testid("count-needs_review"), "1");
    await waitForText(page, testid("detail-status"), "needs_review");
    await page.waitForSelector(`${testid("detail-events")} li[data-event-type="SESSION_DONE"]`);
    await page.waitForSelector(`${testid("detail-runs")} tr[data-role="implementer"]`);
  });

  await step("a review-hard mark shows on its detail", async () => {
    await api("POST", `/api/v1/tasks/${issue.id}/review-hard`);
    await page.waitForSelector(`${testid("detail-review-hard")}:has-text("strict review")`);
  });

  await step("the status panel shows the queue and what to do", async () => {
    await panelReady(page, "status");
    await page.waitForSelector(
      `${testid("recommended-actions")}:has-text("Enable lean field fallback to provide last-chance coverage for required fields.")`,
    );
  });

  await step("a reviewer is assigned from the reviews panel", async () => {
    await panelReady(page, "reviews");
    await page.fill(testid("review-reviewer"), "ada");
    await page.click(`${testid("review-form")} button[type="submit"]`);
    await page.waitForSelector(`${testid(`review-${issue.id}`)}:has-text("ada")`);
    await page.waitForSelector(`${testid("detail-review")}:has-text("ada")`);
  });

  await step("a flag is switched from the flags panel", async () => {
    await panelReady(page, "flags");
    const name = "lean.plan_rewrite";
    const before = (await api("GET", "/api/v1/flags")).find((flag) => flag.name === name).enabled;
    await page.click(testid(`flag-${name}`));
    await waitForText(page, testid("flags-result"), `${name} ${before ? "off" : "on"}.`);
    const after = (await api("GET", "/api/v1/flags")).find((flag) => flag.name === name).enabled;
    if (after === before) throw new Error(`${name} is still ${before}`);
  });

  await step("the new issue form needs the token, then creates an issue", async () => {
    await page.fill(testid("token-input"), "");
    await page.fill(testid("new-issue-title"), "a second issue, from the form");
    await page.click(`${testid("new-issue-form")} button[type="submit"]`);
    await page.waitForSelector(`${testid("new-issue-result")}:has-text("service token")`);
    await page.fill(testid("token-input"), token);
    await page.click(`${testid("new-issue-form")} button[type="submit"]`);
    await page.waitForSelector(`${testid("new-issue-result")}:has-text("Created i-")`);
    const created = (await page.textContent(testid("new-issue-result"))).match(/i-[0-9a-z]+/)[0];
    await page.waitForSelector(`${testid("board")} ${testid(`card-${created}`)}`);
  });

  await step("a question is answered from its issue's detail, which goes back to the queue", async () => {
    await page.click(testid(`card-${asking}`));
    await waitForText(page, testid("question-text"), "Which greeting should the page use?");
    await page.click(`${testid("detail-question")} button.option:has-text("hi")`);
    await page.click(`${testid("answer-form")} button[type="submit"]`);
    await page.waitForSelector(`${testid("detail-events")} li[data-event-type="QUESTION_ANSWERED"]`);
    await page.waitForSelector(testid("detail-question"), { state: "detached" });
    const answered = await api("GET", `/api/v1/tasks/${asking}`);
    const answer = answered.events.findLast((event) => event.event_type === "QUESTION_ANSWERED");
    if (answered.question !== null || answer.data.answer !== "hi") {
      throw new Error(`the task holds ${JSON.stringify({ question: answered.question, answer: answer.data })}`);
    }
  });

  if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.join("; ")}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // Chromium's sandbox cannot start as root (CI containers).
  args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
let failure = null;
try {
  await run(page);
} catch (error) {
  failure = error;
} finally {
  await mkdir(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  await browser.close();
}
if (failure) fail(failure.message);
