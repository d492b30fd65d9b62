// @ts-check
// The accounts, all of them, in one scrolling list that stays light however many there
// are: pages of 200 come from the API as the end approaches (cursors, never a count of
// the table), and only the rows in view — plus a screenful either side — are in the
// page at any time (a virtualised list: 100,000 accounts keep ~60 rows in the DOM).
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { count, taxId } from "../format.js";
import { t } from "../i18n.js";

const rowHeight = 40;  // px, as .virtual-row in console.css
const pageSize = 200;

/** @param {HTMLElement} main */
export async function renderAccounts(main) {
  /** @type {{id: string, legal_name: string, trade_name?: string | null, tax_id?: string | null, lifecycle?: string}[]} */
  const rows = [];
  /** @type {string | null | undefined} */
  let cursor;
  let loading = false;
  const spacer = h("div", { class: "virtual-spacer" });
  const viewport = h("div", { class: "virtual-list", role: "list", "aria-label": t("accounts.list"), tabindex: "0" }, spacer);
  const status = h("p", { class: "muted", "aria-live": "polite" });

  const draw = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - 20);
    const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight) + 20);
    spacer.style.height = `${rows.length * rowHeight}px`;
    const drawn = [];
    for (let i = first; i < last; ++i) {
      const a = rows[i];
      if (!a) continue;
      const row = h("div", { class: "virtual-row", role: "listitem", "data-index": i },
        h("a", { href: `#/accounts/${a.id}` }, a.legal_name),
        h("span", { class: "muted" }, a.trade_name ?? ""), h("span", {}, taxId(a.tax_id)),
        h("span", {}, t(/** @type {any} */ (`lifecycle.${a.lifecycle ?? "lead"}`))));
      row.style.top = `${i * rowHeight}px`;
      drawn.push(row);
    }
    show(spacer, ...drawn);
    status.textContent = t("accounts.loaded", { n: count(rows.length), more: cursor === null ? "" : "+" });
  };
  const loadMore = async () => {
    if (loading || cursor === null) return;
    loading = true;
    const page = await api.GET("/v1/accounts", { params: { query: { limit: pageSize, ...(cursor ? { cursor } : {}) } } });
    loading = false;
    if (!page.data) {
      status.textContent = problemText(page.error);
      return;
    }
    rows.push(.../** @type {any[]} */ (page.data.data));
    cursor = page.data.next_cursor ?? null;
    draw();
  };
  viewport.addEventListener("scroll", () => {
    draw();
    // Two screens from the end: the next page.
    if (viewport.scrollTop + 3 * viewport.clientHeight > rows.length * rowHeight) loadMore();
  }, { passive: true });
  show(main, h("div", { class: "toolbar" }, h("h1", {}, t("accounts.title")), h("a", { href: "#/accounts/new" }, t("nav.new_account"))),
    status, viewport);
  await loadMore();
}
