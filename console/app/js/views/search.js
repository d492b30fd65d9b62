// @ts-check
// Global search: accounts, contacts and deals whose names (and an account's tax id,
// phones and e-mails) contain the words, ignoring case and accents — the indexed search
// of docs/api.md, a page of each.
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { money, taxId } from "../format.js";
import { t } from "../i18n.js";

/**
 * @param {HTMLElement} main
 * @param {string[]} _params
 * @param {URLSearchParams} query
 */
export async function renderSearch(main, _params, query) {
  const q = (query.get("q") ?? "").trim();
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById("global-q"));
  if (input) input.value = q;
  if (q.length === 0) {
    show(main, h("h1", {}, t("search.title")), h("p", { class: "muted" }, t("search.hint")));
    return;
  }
  /** @param {string} f */
  const contains = (f) => ({ filters: [{ field: f, op: /** @type {const} */ ("contains"), value: q }] });
  const [accounts, contacts, deals] = await Promise.all([
    api.POST("/v1/accounts/search", { body: { filter_groups: [contains("legal_name"), contains("trade_name"), contains("tax_id")], limit: 20 } }),
    api.POST("/v1/contacts/search", { body: { filter_groups: [contains("name"), contains("email")], limit: 20 } }),
    api.POST("/v1/deals/search", { body: { filter_groups: [contains("name")], limit: 20 } }),
  ]);
  /**
   * @param {string} title
   * @param {{data?: {data: any[]}, error?: unknown}} result
   * @param {(r: any) => Node} item
   */
  const section = (title, result, item) => h("section", { "aria-label": title }, h("h2", {}, title),
    !result.data ? h("p", { class: "error" }, problemText(result.error)) :
    result.data.data.length === 0 ? h("p", { class: "muted" }, t("search.nothing")) :
    h("ul", { class: "results" }, result.data.data.map((r) => h("li", {}, item(r)))));
  show(main,
    h("h1", {}, t("search.results_for", { q })),
    section(t("search.accounts"), accounts, (a) => h("a", { href: `#/accounts/${a.id}` }, a.legal_name, a.tax_id ? ` · ${taxId(a.tax_id)}` : "")),
    section(t("search.contacts"), contacts, (c) => c.account_id
      ? h("a", { href: `#/accounts/${c.account_id}` }, c.name, c.email ? ` · ${c.email}` : "")
      : h("span", {}, c.name, c.email ? ` · ${c.email}` : "")),
    section(t("search.deals"), deals, (d) => h("a", { href: `#/deals/${d.id}` }, d.name, " · ", money(d.amount, d.currency))));
}
