// The JSON API: reads are open, changes are sent as JSON with the service token. The token
// is kept for this tab's session only: `agentry serve` makes a new one at each start.

const TOKEN_KEY = "agentry.service_token";

export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Keeps the token of a URL `agentry serve` printed (`/#token=...`), then takes it out of the
 * address bar, so that it is neither bookmarked nor shared with the page's address.
 */
export function takeTokenFromUrl() {
  // Older dashboards kept the token for good; it is for one tab's session now.
  localStorage.removeItem(TOKEN_KEY);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (token === null) return;
  saveToken(token.trim());
  history.replaceState(null, "", location.pathname + location.search);
}

/** A refused or failed request; `status` is 0 when the server did not answer. */
export class ApiError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

/** Whether `error` says the endpoint does not exist on this server (an older or newer one). */
export function notAvailable(error) {
  return error instanceof ApiError && error.status === 404;
}

/** What to tell the user about a failed request. */
export function describe(error) {
  if (error instanceof ApiError && error.status === 401) {
    return `${error.message} (enter the service token at the top)`;
  }
  return error.message;
}

export function get(path) {
  return request("GET", path);
}

/** A change: POST, PUT, PATCH or DELETE, as JSON and with the token. */
export function send(method, path, body) {
  return request(method, path, body);
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    const token = savedToken();
    if (token) headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `the server did not answer (${error.message})`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.error ?? `${response.status} ${response.statusText}`);
  }
  return data;
}
