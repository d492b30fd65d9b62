// @ts-check
// An account: the visit briefing (open deals, risks, tasks, contacts, the packs'
// sections), the customer 360 timeline a page at a time, and forms for a deal, a contact
// and an interaction. And the form that creates an account.
import { api, problemText } from "../api.js";
import { field, h, show } from "../dom.js";
import { date, dateTime, money, parseMoney, taxId } from "../format.js";
import { t } from "../i18n.js";
import { facts, interactionForm, taskForm } from "./records.js";
import { renderPanel } from "./panels.js";
import { toast } from "./toast.js";

/**
 * @param {HTMLElement} main
 * @param {string[]} params [account id]
 */
export async function renderAccount(main, [id = ""]) {
  // Everything the page shows, asked at once: the page is drawn after one round trip.
  const [account, briefing, firstPage] = await Promise.all([
    api.GET("/v1/accounts/{id}", { params: { path: { id } } }),
    api.GET("/v1/accounts/{id}/briefing", { params: { path: { id } } }),
    timelinePage(id, undefined),
  ]);
  if (!account.data) {
    show(main, h("p", { class: "error", role: "alert" }, problemText(account.error)));
    return;
  }
  const a = account.data;
  const b = briefing.data;
  const refresh = () => renderAccount(main, [id]);
  const timeline = h("ol", { class: "timeline", "aria-label": t("account.timeline") });
  const more = h("button", { type: "button", class: "link", hidden: true }, t("board.more"));
  /** @type {string | null | undefined} */
  let cursor;
  /** @param {Awaited<ReturnType<typeof timelinePage>>} page */
  const showTimeline = (page) => {
    if (!page.data) return toast(problemText(page.error), "error");
    for (const item of page.data.data) timeline.append(timelineItem(item));
    cursor = page.data.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  more.addEventListener("click", async () => showTimeline(await timelinePage(id, cursor)));

  show(main,
    h("h1", {}, a.legal_name),
    facts([
      [t("account.trade_name"), a.trade_name],
      [t("account.tax_id"), taxId(a.tax_id)],
      [t("account.lifecycle"), t(/** @type {any} */ (`lifecycle.${a.lifecycle ?? "lead"}`))],
    ]),
    b ? briefingView(b) : h("p", { class: "error" }, problemText(briefing.error)),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "acc-timeline" }, h("h2", { id: "acc-timeline" }, t("account.timeline")), timeline, more),
      h("section", {},
        dealForm(id, (dealId) => { location.hash = `#/deals/${dealId}`; }),
        contactForm(id, refresh),
        interactionForm({ account_id: id }, refresh),
        taskForm({ account_id: id }, refresh))));
  showTimeline(firstPage);
}

/**
 * A page of the account's 360 timeline, newest first.
 * @param {string} id
 * @param {string | null | undefined} cursor
 */
function timelinePage(id, cursor) {
  return api.GET("/v1/accounts/{id}/timeline", { params: { path: { id }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } });
}

/** @param {any} b the briefing */
function briefingView(b) {
  /** @type {[string, any][]} */
  const sections = Object.entries(b.sections ?? {});
  return h("section", { class: "briefing", "aria-labelledby": "acc-briefing" },
    h("h2", { id: "acc-briefing" }, t("account.briefing")),
    b.risk_flags.length
      ? h("ul", { class: "risks" }, b.risk_flags.map((/** @type {any} */ r) => h("li", { class: "risk" }, "⚠ ", r.reason)))
      : null,
    h("h3", {}, t("account.open_deals")),
    b.open_deals.length
      ? h("table", {}, h("thead", {}, h("tr", {}, [t("deal.name"), t("deal.stage"), t("deal.amount"), t("deal.expected_close")].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, b.open_deals.map((/** @type {any} */ d) => h("tr", {},
            h("td", {}, h("a", { href: `#/deals/${d.id}` }, d.name)),
            h("td", {}, `${d.stage?.name ?? ""} · ${t("board.days_in_stage", { n: d.days_in_stage })}`),
            h("td", { class: "number" }, money(d.amount, d.currency)), h("td", {}, date(d.expected_close))))))
      : h("p", { class: "muted" }, t("account.no_open_deals")),
    h("h3", {}, t("account.contacts")),
    h("ul", {}, b.contacts.map((/** @type {any} */ c) => h("li", {}, c.name, c.job_title ? ` · ${c.job_title}` : "",
      c.deal_roles.length ? ` (${c.deal_roles.map((/** @type {any} */ r) => r.role).join(", ")})` : ""))),
    b.overdue_tasks.length ? h("p", { class: "risk" }, t("account.overdue", { n: b.overdue_tasks.length })) : null,
    sections.map(([key, section]) => renderPanel(key, section)));
}

/** @param {{kind: string, at: string, id: string, data?: any}} item */
function timelineItem(item) {
  const d = item.data ?? {};
  /** @type {string} */
  let what;
  if (item.kind === "interaction") what = `${t(/** @type {any} */ (`interaction.${d.type}`))}${d.subject ? ": " + d.subject : ""}`;
  else if (item.kind === "stage_change") what = t("account.stage_change", { deal: d.deal_name ?? "", stage: d.stage_name ?? "" });
  else if (item.kind === "task") what = `${t("account.task")}: ${d.title ?? ""}${d.status === "done" ? " ✓" : ""}`;
  else what = item.kind;
  return h("li", { "data-kind": item.kind }, h("time", { datetime: item.at }, dateTime(item.at)), " ", what);
}

/**
 * @param {string} accountId
 * @param {(id: string) => void} created
 */
function dealForm(accountId, created) {
  const pipelines = h("select", { name: "pipeline_id", required: true });
  api.GET("/v1/pipelines", { params: { query: { limit: 200 } } }).then(({ data }) => {
    for (const p of data?.data ?? []) pipelines.append(h("option", { value: p.id }, p.name));
  });
  const form = h("form", { class: "inline-form", "aria-label": t("deal.new"), onsubmit: async (event) => {
    event.preventDefault();
    const amount = parseMoney(field(form, "amount"));
    const { data, error } = await api.POST("/v1/deals", { body: {
      name: field(form, "name"), account_id: accountId, pipeline_id: field(form, "pipeline_id"),
      ...(amount === null ? {} : { amount }), ...(field(form, "expected_close") ? { expected_close: field(form, "expected_close") } : {}) } });
    if (!data) return toast(problemText(error), "error");
    toast(t("deal.created"));
    created(data.id);
  } },
    h("h2", {}, t("deal.new")),
    h("label", {}, t("deal.name"), h("input", { name: "name", required: true, maxlength: 300 })),
    h("label", {}, t("deal.pipeline"), pipelines),
    h("label", {}, t("deal.amount"), h("input", { name: "amount", inputmode: "decimal", placeholder: "1.500,00" })),
    h("label", {}, t("deal.expected_close"), h("input", { name: "expected_close", type: "date" })),
    h("button", { type: "submit", class: "primary" }, t("deal.create")));
  return form;
}

/**
 * @param {string} accountId
 * @param {() => Promise<void>} done
 */
function contactForm(accountId, done) {
  const form = h("form", { class: "inline-form", "aria-label": t("contact.new"), onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/contacts", { body: {
      name: field(form, "name"), account_id: accountId, email: field(form, "email") || undefined,
      phone: field(form, "phone") || undefined, job_title: field(form, "job_title") || undefined } });
    if (!data) return toast(problemText(error), "error");
    toast(t("contact.created"));
    await done();
  } },
    h("h2", {}, t("contact.new")),
    h("label", {}, t("contact.name"), h("input", { name: "name", required: true, maxlength: 200 })),
    h("label", {}, t("contact.email"), h("input", { name: "email", type: "email" })),
    h("label", {}, t("contact.phone"), h("input", { name: "phone", type: "tel" })),
    h("label", {}, t("contact.job_title"), h("input", { name: "job_title", maxlength: 200 })),
    h("button", { type: "submit" }, t("contact.create")));
  return form;
}

/** @param {HTMLElement} main */
export function renderNewAccount(main) {
  const form = h("form", { class: "stacked", onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/accounts", { body: {
      legal_name: field(form, "legal_name"), trade_name: field(form, "trade_name") || undefined,
      tax_id: field(form, "tax_id") || undefined } });
    if (!data) return toast(problemText(error), "error");
    toast(t("account.created"));
    location.hash = `#/accounts/${data.id}`;
  } },
    h("label", {}, t("account.legal_name"), h("input", { name: "legal_name", required: true, maxlength: 300 })),
    h("label", {}, t("account.trade_name"), h("input", { name: "trade_name", maxlength: 300 })),
    h("label", {}, t("account.tax_id"), h("input", { name: "tax_id", placeholder: "12.345.678/0001-95" })),
    h("button", { type: "submit", class: "primary" }, t("account.create")));
  show(main, h("h1", {}, t("nav.new_account")), form);
}
