// @ts-check
// Who is signed in. The session itself is an HttpOnly cookie no script can read (ADR
// 0046); the console keeps only the CSRF token the sign-in answered, per browser, so a
// new tab of the same session can still change things.
import { api, useCsrfToken } from "./api.js";

const csrfKey = "nucleo.csrf";
const tenantKey = "nucleo.tenant";

/** @typedef {{tenant_id: string, user_id: string | null, role: string, session_id: string | null, expires_at: string | null}} Who */

/** @type {Who | null} */
let who = null;

/** The caller, once `resume` or `signIn` found one. */
export function current() {
  return who;
}

/** The tenant the last sign-in on this browser used (the sign-in form fills it in). */
export function rememberedTenant() {
  return localStorage.getItem(tenantKey) ?? new URLSearchParams(location.search).get("tenant") ?? "";
}

/** Whether the browser still holds a live session: asks the server. */
export async function resume() {
  useCsrfToken(localStorage.getItem(csrfKey) ?? "");
  const { data } = await api.GET("/v1/sessions/current");
  who = data ?? null;
  return who;
}

/**
 * @param {string} tenantId
 * @param {string} email
 * @param {string} password
 */
export async function signIn(tenantId, email, password) {
  const { data, error, response } = await api.POST("/v1/sessions", {
    body: { tenant_id: tenantId, email, password },
  });
  if (!data) return { error, status: response.status };
  localStorage.setItem(csrfKey, data.csrf_token);
  localStorage.setItem(tenantKey, tenantId);
  useCsrfToken(data.csrf_token);
  await resume();
  return { error: undefined, status: response.status };
}

/** @param {boolean} everywhere end every session of the user, not only this one */
export async function signOut(everywhere = false) {
  if (everywhere && who?.user_id)
    await api.DELETE("/v1/users/{id}/sessions", { params: { path: { id: who.user_id } } });
  else await api.DELETE("/v1/sessions/current");
  forget();
}

/** The session ended (signed out elsewhere, expired): nothing of it is kept. */
export function forget() {
  localStorage.removeItem(csrfKey);
  useCsrfToken("");
  who = null;
}

/** @param {...string} roles */
export function hasRole(...roles) {
  return who !== null && roles.includes(who.role);
}
