// @ts-check
// The console's only way to the server: the public /v1 API, called with the call shape
// of openapi-fetch and typed by the client types openapi-typescript generates from
// GET /v1/openapi.json (ADR 0047). tests/console/check.sh type-checks every call of the
// console against the document the server publishes, so a screen that drifts from the
// contract fails the build's tests, not a person in front of it.

/** @typedef {import("./schema").paths} Paths */
/** @typedef {import("openapi-fetch").Client<Paths>} Client */

/**
 * @typedef {object} CallInit
 * @property {{path?: Record<string, unknown>, query?: Record<string, unknown>, header?: Record<string, string>}} [params]
 * @property {unknown} [body]
 * @property {"json" | "text" | "blob"} [parseAs]
 */

let csrfToken = "";
// The server's Nucleo-Write-Position after this tab's last write, sent back as
// Nucleo-Read-After: a list read from a replica then holds what the person just saved
// (docs/operations.md, "Read replicas").
let lastWritePosition = "";
/** @type {() => void} */
let onSignedOut = () => {};

/**
 * The session's CSRF token (POST /v1/sessions answers it): sent as X-CSRF-Token on every
 * request that may change something, which the server refuses without it.
 * @param {string} token
 */
export function useCsrfToken(token) {
  csrfToken = token;
}

/** @param {() => void} handler called when the server answers 401 (the session ended) */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/**
 * @param {string} path a path template of the document, e.g. "/v1/deals/{id}"
 * @param {CallInit["params"]} params
 */
function urlOf(path, params = {}) {
  let url = path.replace(/\{([^}]+)\}/g, (_, name) => {
    const value = params.path?.[name];
    if (value === undefined || value === null) throw new Error(`${path}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params.query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item));
  }
  const text = query.toString();
  return text ? `${url}?${text}` : url;
}

/**
 * One request; answers {data} on success, {error} (the problem document) otherwise, and
 * the response either way — as openapi-fetch does.
 * @param {string} method
 * @param {string} path
 * @param {CallInit} [init]
 */
async function call(method, path, init = {}) {
  const headers = new Headers({ Accept: "application/json", ...(init.params?.header ?? {}) });
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers.set("X-CSRF-Token", csrfToken);
  if (lastWritePosition) headers.set("Nucleo-Read-After", lastWritePosition);
  /** @type {BodyInit | undefined} */
  let body;
  if (init.body instanceof FormData) body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers.set("Content-Type", "application/json");
  }
  const response = await fetch(urlOf(path, init.params), { method, headers, body, credentials: "same-origin" });
  if (response.status === 401 && path !== "/v1/sessions") onSignedOut();
  lastWritePosition = response.headers.get("Nucleo-Write-Position") ?? lastWritePosition;
  const parseAs = init.parseAs ?? "json";
  const read = async () => {
    if (parseAs === "text") return response.text();
    if (parseAs === "blob") return response.blob();
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  };
  if (response.ok) return { data: await read(), error: undefined, response };
  let error;
  try {
    const text = await response.text();
    error = text ? JSON.parse(text) : { status: response.status };
  } catch {
    error = { status: response.status, detail: response.statusText };
  }
  return { data: undefined, error, response };
}

/** @type {Client} */
export const api = /** @type {any} */ ({
  /** @param {string} path @param {CallInit} [init] */
  GET: (path, init) => call("GET", path, init),
  /** @param {string} path @param {CallInit} [init] */
  POST: (path, init) => call("POST", path, init),
  /** @param {string} path @param {CallInit} [init] */
  PUT: (path, init) => call("PUT", path, init),
  /** @param {string} path @param {CallInit} [init] */
  PATCH: (path, init) => call("PATCH", path, init),
  /** @param {string} path @param {CallInit} [init] */
  DELETE: (path, init) => call("DELETE", path, init),
});

/**
 * A problem document's words for a person: its detail, and each named field's message.
 * @param {unknown} error
 */
export function problemText(error) {
  if (!error || typeof error !== "object") return String(error ?? "");
  const problem = /** @type {{detail?: string, title?: string, errors?: {field?: string, message?: string}[]}} */ (error);
  const fields = (problem.errors ?? []).map((e) => (e.field ? `${e.field}: ${e.message ?? ""}` : e.message ?? ""));
  return [problem.detail ?? problem.title ?? "", ...fields].filter(Boolean).join(" — ");
}
