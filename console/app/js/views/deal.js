// @ts-check
// A deal: its facts, the stage it is in and how long, its open tasks, what happened on
// it, and the forms to log a call and add a follow-up.
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { date, dateTime, daysSince, money } from "../format.js";
import { t } from "../i18n.js";
import { facts, interactionForm, taskForm } from "./records.js";
import { proposalsSection } from "./proposals.js";

/**
 * @param {HTMLElement} main
 * @param {string[]} params [deal id]
 */
export async function renderDeal(main, [id = ""]) {
  const deal = await api.GET("/v1/deals/{id}", { params: { path: { id } } });
  if (!deal.data) {
    show(main, h("p", { class: "error", role: "alert" }, problemText(deal.error)));
    return;
  }
  const d = deal.data;
  const [account, stage, interactions, tasks] = await Promise.all([
    api.GET("/v1/accounts/{id}", { params: { path: { id: d.account_id } } }),
    d.stage_id ? api.GET("/v1/stages/{id}", { params: { path: { id: d.stage_id } } }) : Promise.resolve(undefined),
    api.GET("/v1/interactions", { params: { query: { deal_id: id, limit: 50 } } }),
    api.GET("/v1/tasks", { params: { query: { deal_id: id, status: "open", limit: 50 } } }),
  ]);
  const refresh = () => renderDeal(main, [id]);
  const proposals = await proposalsSection(id);
  const days = daysSince(d.stage_entered_at);
  show(main,
    h("h1", {}, d.name),
    facts([
      [t("deal.account"), account?.data ? h("a", { href: `#/accounts/${d.account_id}` }, account.data.legal_name) : d.account_id],
      [t("deal.stage"), stage?.data ? `${stage.data.name}${days === null ? "" : " · " + t("board.days_in_stage", { n: days })}` : "—"],
      [t("deal.status"), t(/** @type {any} */ (`deal.status_${d.status ?? "open"}`))],
      [t("deal.amount"), money(d.amount, d.currency)],
      [t("deal.expected_close"), date(d.expected_close)],
    ]),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "deal-activity" },
        h("h2", { id: "deal-activity" }, t("deal.activity")),
        h("ol", { class: "timeline" }, [...(interactions.data?.data ?? [])].reverse().map((i) =>
          h("li", {}, h("strong", {}, t(/** @type {any} */ (`interaction.${i.type}`))), " · ", dateTime(i.occurred_at),
            i.subject ? h("p", {}, i.subject) : null, i.body ? h("p", { class: "muted" }, i.body) : null)))),
      h("section", { "aria-labelledby": "deal-tasks" },
        h("h2", { id: "deal-tasks" }, t("deal.tasks")),
        h("ul", {}, (tasks.data?.data ?? []).map((task) => h("li", {}, task.title, " · ", dateTime(task.due_at)))),
        interactionForm({ account_id: d.account_id, deal_id: id }, refresh),
        taskForm({ deal_id: id, account_id: d.account_id }, refresh))),
    proposals);
}
