// @ts-check
// Insight (plugins/insight, docs/insight.md): my deals in the order to work them, each
// with the reason for its place; for managers the forecast with its 80 % interval and
// the diagnosis of the process in words. Without the plugin loaded the page says so.
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { money } from "../format.js";
import { t } from "../i18n.js";
import { current, hasRole } from "../session.js";

/**
 * @param {HTMLElement} main
 * @param {string[]} _params
 * @param {URLSearchParams} query
 */
export async function renderInsight(main, _params, query) {
  const manager = hasRole("admin", "manager", "auditor");
  const owner = query.get("owner") ?? current()?.user_id ?? "";
  const [priorities, forecast, diagnosis] = await Promise.all([
    api.GET("/v1/x/org.nucleo.insight/priorities", { params: { query: { owner_id: owner, limit: 50 } } }),
    manager ? api.GET("/v1/x/org.nucleo.insight/forecast", { params: { query: { group: "total" } } }) : Promise.resolve(undefined),
    manager ? api.GET("/v1/x/org.nucleo.insight/diagnosis") : Promise.resolve(undefined),
  ]);
  // The plugin's routes exist only while it is loaded.
  if (priorities.response.status === 404 && /no route/.test(problemText(priorities.error))) {
    show(main, h("h1", {}, t("nav.insight")), h("p", { class: "muted" }, t("insight.not_loaded")));
    return;
  }
  /** @type {any} */
  const ranked = priorities.data;
  /** @type {any} */
  const figures = forecast?.data;
  /** @type {any} */
  const process = diagnosis?.data;
  const total = figures?.groups?.total;
  show(main,
    h("h1", {}, t("nav.insight")),
    h("section", { "aria-labelledby": "ins-priorities" },
      h("h2", { id: "ins-priorities" }, t("insight.priorities")),
      ranked ? (ranked.data.length === 0 ? h("p", { class: "muted" }, t("insight.no_priorities")) :
        h("ol", { class: "priorities" }, ranked.data.map((/** @type {any} */ p) => h("li", {},
          h("a", { href: `#/deals/${p.deal_id}` }, p.name ?? p.deal_id), " · ",
          t("insight.probability", { n: p.probability_points }), " · ", money(p.expected_value, p.currency),
          h("p", { class: "muted" }, p.reason),
          (p.risks ?? []).length ? h("p", { class: "risk" }, "⚠ ", p.risks.join("; ")) : null))))
        : h("p", { class: "error" }, problemText(priorities.error))),
    manager ? h("section", { "aria-labelledby": "ins-forecast" },
      h("h2", { id: "ins-forecast" }, t("insight.forecast", { days: figures?.horizon_days ?? "?" })),
      total ? h("dl", { class: "facts forecast" },
        h("dt", {}, t("insight.expected")), h("dd", {}, money(total.expected)),
        h("dt", {}, t("insight.interval")), h("dd", {}, `${money(total.p10)} – ${money(total.p90)}`),
        h("dt", {}, t("insight.stage_weighted")), h("dd", {}, money(total.stage_weighted)),
        h("dt", {}, t("insight.commit")), h("dd", {}, money(total.commit)))
        : h("p", { class: "muted" }, problemText(forecast?.error))) : null,
    manager ? h("section", { "aria-labelledby": "ins-diagnosis" },
      h("h2", { id: "ins-diagnosis" }, t("insight.diagnosis")),
      process ? h("ul", { class: "findings" }, (process.findings ?? []).map((/** @type {any} */ f) => h("li", {}, typeof f === "string" ? f : f.text ?? JSON.stringify(f))))
        : h("p", { class: "muted" }, problemText(diagnosis?.error))) : null);
}
