// @ts-check
// Imports: upload a CSV with its mapping, watch its progress (rows done, rate, time
// left) and fetch the error report — the job of docs/import.md, run on the server.
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { count, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { toast } from "./toast.js";

/** @param {HTMLElement} main */
export async function renderImports(main) {
  const listed = await api.GET("/v1/imports", { params: { query: { limit: 20 } } });
  const progress = h("section", { class: "import-progress", "aria-live": "polite" });
  const form = h("form", { class: "stacked", onsubmit: async (event) => {
    event.preventDefault();
    const upload = new FormData(form);
    const { data, error } = await api.POST("/v1/imports", { body: /** @type {any} */ (upload) });
    if (!data) return toast(problemText(error), "error");
    form.reset();
    await follow(progress, data.id);
  } },
    h("label", {}, t("imports.file"), h("input", { name: "file", type: "file", accept: ".csv,.txt,.jsonl,text/csv", required: true })),
    h("label", {}, t("imports.mapping"),
      h("textarea", { name: "mapping", required: true, rows: 8, spellcheck: "false",
                      placeholder: '{"entity": "account", "key": "tax_id", "columns": {"Razão social": "legal_name", "CNPJ": "tax_id"}}' })),
    h("label", {}, t("imports.encoding"),
      h("select", { name: "encoding" }, ["utf-8", "iso-8859-1", "windows-1252"].map((e) => h("option", { value: e }, e)))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "dry_run", value: "true" }), t("imports.dry_run")),
    h("button", { type: "submit", class: "primary" }, t("imports.start")));
  show(main,
    h("h1", {}, t("nav.imports")),
    form, progress,
    h("h2", {}, t("imports.recent")),
    h("table", {}, h("thead", {}, h("tr", {}, [t("imports.when"), t("imports.status"), t("imports.rows"), t("imports.failed"), ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, (listed.data?.data ?? []).map((i) => h("tr", {},
        h("td", {}, dateTime(i.created_at)), h("td", {}, t(/** @type {any} */ (`imports.status_${i.status}`))),
        h("td", { class: "number" }, count(i.progress.rows_done)), h("td", { class: "number" }, count(i.progress.failed)),
        h("td", {}, h("button", { type: "button", class: "link", onclick: () => follow(progress, i.id) }, t("imports.open"))))))));
}

/**
 * Polls the import until it ends, drawing a progress bar; then links its error report.
 * @param {HTMLElement} where
 * @param {string} id
 */
async function follow(where, id) {
  for (;;) {
    const { data, error } = await api.GET("/v1/imports/{id}", { params: { path: { id } } });
    if (!data) return show(where, h("p", { class: "error" }, problemText(error)));
    const p = data.progress;
    const running = data.status === "queued" || data.status === "running";
    show(where,
      h("h2", {}, t("imports.import"), " ", id),
      h("progress", { max: 100, value: data.status === "done" ? 100 : p.percent ?? 0, "aria-label": t("imports.progress") }),
      h("p", { "data-status": data.status }, t(/** @type {any} */ (`imports.status_${data.status}`)), " · ",
        t("imports.counts", { done: count(p.rows_done), created: count(p.created), updated: count(p.updated), failed: count(p.failed) }),
        running && p.rows_per_second ? " · " + t("imports.rate", { rate: count(p.rows_per_second), eta: p.eta_seconds ?? "?" }) : ""),
      data.error ? h("p", { class: "error" }, data.error) : null,
      p.failed > 0 ? h("a", { href: `/v1/imports/${id}/errors`, download: `${id}-errors.csv` }, t("imports.errors")) : null,
      running ? h("button", { type: "button", class: "link", onclick: async () => {
        const c = await api.POST("/v1/imports/{id}/cancel", { params: { path: { id } } });
        if (!c.data) toast(problemText(c.error), "error");
      } }, t("imports.cancel")) : null);
    if (!running) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
