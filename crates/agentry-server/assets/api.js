// The JSON API: reads are open, changes carry the service token from the header's field.

const TOKEN_KEY = "agentry.service_token";

export function savedToken() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

export function saveToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
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

/** A change: POST, PUT or PATCH with a JSON body and the token. */
export function send(method, path, body) {
  return request(method, path, body);
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) {
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
