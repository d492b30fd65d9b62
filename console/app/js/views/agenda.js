// @ts-check
// My agenda: overdue tasks first, then the week's, each with its deal and account, and
// the stage moves waiting for my approval.
import { api, problemText } from "../api.js";
import { h, show } from "../dom.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { toast } from "./toast.js";

/** @param {HTMLElement} main */
export async function renderAgenda(main) {
  const { data, error } = await api.GET("/v1/me/agenda", { params: { query: { limit: 200 } } });
  if (!data) {
    show(main, h("h1", {}, t("nav.agenda")), h("p", { class: "error", role: "alert" }, problemText(error)));
    return;
  }
  const overdue = data.items.filter((i) => i.overdue);
  const upcoming = data.items.filter((i) => !i.overdue);
  /** @param {typeof data.items} items */
  const list = (items) => items.length === 0 ? h("p", { class: "muted" }, t("agenda.none")) :
    h("ul", { class: "agenda" }, items.map((item) => h("li", { class: item.overdue ? "overdue" : "" },
      h("span", { class: "when" }, dateTime(item.task.due_at)),
      h("span", { class: "what" }, item.task.title),
      item.deal ? h("a", { href: `#/deals/${item.deal.id}` }, item.deal.name, " · ", money(item.deal.amount, item.deal.currency)) : null,
      item.account ? h("a", { href: `#/accounts/${item.account.id}` }, item.account.legal_name) : null,
      h("button", { type: "button", "aria-label": t("agenda.complete_named", { title: item.task.title }), onclick: async () => {
        const done = await api.POST("/v1/tasks/{id}/complete", {
          params: { path: { id: item.task.id }, header: { "If-Match": `"${item.task.version}"` } } });
        if (!done.data) return toast(problemText(done.error), "error");
        toast(t("agenda.completed", { title: item.task.title }));
        await renderAgenda(main);
      } }, t("agenda.complete")))));
  show(main,
    h("h1", {}, t("nav.agenda")),
    h("section", { "aria-labelledby": "ag-overdue" }, h("h2", { id: "ag-overdue" }, t("agenda.overdue", { n: overdue.length })), list(overdue)),
    h("section", { "aria-labelledby": "ag-upcoming" }, h("h2", { id: "ag-upcoming" }, t("agenda.upcoming")), list(upcoming)),
    data.approvals.length ? h("section", { "aria-labelledby": "ag-approvals" },
      h("h2", { id: "ag-approvals" }, t("agenda.approvals")),
      h("ul", {}, data.approvals.map((a) => h("li", {}, a.deal ? h("a", { href: `#/deals/${a.deal.id}` }, a.deal.name) : "",
        " → ", a.stage.name ?? "")))) : null,
    data.truncated ? h("p", { class: "muted" }, t("agenda.truncated")) : null);
}
