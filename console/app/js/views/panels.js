// @ts-check
// What a plugin adds to the account page, drawn from data — never from HTML the plugin
// wrote: a briefing section's data as a list of facts, a table or a line of text.
import { h } from "../dom.js";
import { t } from "../i18n.js";

/** @param {unknown} v */
function text(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * @param {string} key "<plugin id>.<name>"
 * @param {{title: string, data?: unknown, error?: string}} section
 */
export function renderPanel(key, section) {
  const body = section.error !== undefined
    ? h("p", { class: "error" }, t("panel.unavailable"), " ", section.error)
    : dataView(section.data);
  return h("section", { class: "panel", "data-panel": key, "aria-label": section.title }, h("h3", {}, section.title), body);
}

/** @param {unknown} data */
export function dataView(data) {
  if (Array.isArray(data)) {
    const rows = data.filter((r) => r && typeof r === "object");
    if (rows.length === 0) return h("p", { class: "muted" }, data.length ? data.map(text).join(", ") : t("panel.empty"));
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 8);
    return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", {}, text(/** @type {any} */ (r)[c])))))));
  }
  if (data && typeof data === "object")
    return h("dl", { class: "facts" }, Object.entries(data).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, text(v))]));
  return h("p", {}, text(data));
}
