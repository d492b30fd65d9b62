// @ts-check
// The privacy desk (LGPD; docs/compliance.md): data-subject requests with their legal
// deadlines, legal holds, a contact's consent ledger, and what the next retention run
// would touch — a dry run, nothing written.
import { api, problemText } from "../api.js";
import { field, h, show } from "../dom.js";
import { date, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { hasRole } from "../session.js";
import { dataView } from "./panels.js";
import { toast } from "./toast.js";

const kinds = ["access", "portability", "correction", "anonymisation", "erasure", "consent_revocation", "information_on_sharing"];

/**
 * @param {HTMLElement} main
 * @param {string[]} _params
 * @param {URLSearchParams} query
 */
export async function renderPrivacy(main, _params, query) {
  const consentOf = query.get("contact") ?? "";
  const [requests, holds, plan, consents] = await Promise.all([
    api.GET("/v1/privacy/requests", { params: { query: { status: "open", limit: 100 } } }),
    api.GET("/v1/privacy/holds"),
    api.GET("/v1/privacy/retention/plan"),
    consentOf ? api.GET("/v1/contacts/{id}/consents", { params: { path: { id: consentOf } } }) : Promise.resolve(undefined),
  ]);
  const refresh = () => renderPrivacy(main, _params, query);
  const admin = hasRole("admin");
  /** @param {string[]} head @param {Node[]} rows */
  const table = (head, rows) => h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows));

  const lookup = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    location.hash = `#/privacy?contact=${encodeURIComponent(field(lookup, "contact"))}`;
  } }, h("label", {}, t("privacy.contact_id"), h("input", { name: "contact", value: consentOf, pattern: "con_[0-9a-z]{26}" })),
     h("button", { type: "submit" }, t("privacy.show_consents")));

  show(main,
    h("h1", {}, t("nav.privacy")),
    h("section", { "aria-labelledby": "prv-requests" },
      h("h2", { id: "prv-requests" }, t("privacy.requests")),
      requests.data ? (requests.data.data.length === 0 ? h("p", { class: "muted" }, t("privacy.no_requests")) :
        table([t("privacy.kind"), t("privacy.contact"), t("privacy.received"), t("privacy.due"), t("privacy.status")],
          requests.data.data.map((r) => h("tr", { class: r.overdue ? "overdue" : "" },
            h("td", {}, t(/** @type {any} */ (`privacy.kind_${r.kind}`))), h("td", {}, r.contact_id),
            h("td", {}, date(r.received_at)),
            h("td", { class: r.overdue ? "error" : "" }, date(r.due_at), r.overdue ? ` · ${t("privacy.overdue")}` : ""),
            h("td", {}, t(/** @type {any} */ (`privacy.status_${r.status}`))))))) : h("p", { class: "error" }, problemText(requests.error)),
      admin ? newRequestForm(refresh) : null),
    h("section", { "aria-labelledby": "prv-holds" },
      h("h2", { id: "prv-holds" }, t("privacy.holds")),
      holds.data ? table([t("privacy.contact"), t("privacy.reason"), t("privacy.placed"), ""],
        holds.data.data.filter((hold) => hold.active).map((hold) => h("tr", {},
          h("td", {}, hold.subject_id), h("td", {}, hold.reason), h("td", {}, dateTime(hold.placed_at)),
          h("td", {}, admin ? h("button", { type: "button", class: "link", onclick: async () => {
            const reason = prompt(t("privacy.lift_reason"));
            if (!reason) return;
            const r = await api.POST("/v1/privacy/holds/{id}/lift", { params: { path: { id: hold.id } }, body: { reason } });
            if (!r.data) return toast(problemText(r.error), "error");
            await refresh();
          } }, t("privacy.lift")) : null)))) : h("p", { class: "error" }, problemText(holds.error)),
      admin ? newHoldForm(refresh) : null),
    h("section", { "aria-labelledby": "prv-consents" },
      h("h2", { id: "prv-consents" }, t("privacy.consents")), lookup,
      consents === undefined ? null : consents.data
        ? table([t("privacy.purpose"), t("privacy.state"), t("privacy.legal_basis"), t("privacy.since")],
            consents.data.purposes.map((c) => h("tr", {},
              h("td", {}, c.purpose), h("td", {}, c.state), h("td", {}, c.legal_basis), h("td", {}, dateTime(c.since)))))
        : h("p", { class: "error" }, problemText(consents.error))),
    h("section", { "aria-labelledby": "prv-retention" },
      h("h2", { id: "prv-retention" }, t("privacy.retention_plan")),
      h("p", { class: "muted" }, t("privacy.retention_explain")),
      plan.data !== undefined ? dataView(retentionSummary(plan.data)) : h("p", { class: "error" }, problemText(plan.error))));
}

/**
 * One line per policy: what it would touch now, what a hold keeps — the records' ids
 * stay out of the page (a run may touch thousands).
 * @param {any} plan
 */
function retentionSummary(plan) {
  return (plan?.policies ?? []).map((/** @type {any} */ p) => ({
    [t("privacy.policy")]: p.key, [t("privacy.entity")]: p.entity, [t("privacy.cutoff")]: date(p.cutoff),
    [t("privacy.would_touch")]: `${(p.records ?? []).length}${p.more ? "+" : ""}`, [t("privacy.held")]: p.held,
  }));
}

/** @param {() => Promise<void>} done */
function newRequestForm(done) {
  const form = h("form", { class: "inline-form", "aria-label": t("privacy.new_request"), onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/privacy/requests", { body: {
      kind: /** @type {"access"} */ (field(form, "kind")), contact_id: field(form, "contact_id"),
      received_via: field(form, "received_via"), details: field(form, "details") || undefined } });
    if (!data) return toast(problemText(error), "error");
    toast(t("privacy.request_opened", { due: date(data.due_at) }));
    await done();
  } },
    h("h3", {}, t("privacy.new_request")),
    h("label", {}, t("privacy.kind"), h("select", { name: "kind" }, kinds.map((k) => h("option", { value: k }, t(/** @type {any} */ (`privacy.kind_${k}`)))))),
    h("label", {}, t("privacy.contact_id"), h("input", { name: "contact_id", required: true, pattern: "con_[0-9a-z]{26}" })),
    h("label", {}, t("privacy.received_via"), h("input", { name: "received_via", required: true, placeholder: "e-mail" })),
    h("label", {}, t("privacy.details"), h("textarea", { name: "details", rows: 2 })),
    h("button", { type: "submit", class: "primary" }, t("privacy.open_request")));
  return form;
}

/** @param {() => Promise<void>} done */
function newHoldForm(done) {
  const form = h("form", { class: "inline-form", "aria-label": t("privacy.new_hold"), onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/privacy/holds", { body: { contact_id: field(form, "contact_id"), reason: field(form, "reason") } });
    if (!data) return toast(problemText(error), "error");
    await done();
  } },
    h("h3", {}, t("privacy.new_hold")),
    h("label", {}, t("privacy.contact_id"), h("input", { name: "contact_id", required: true, pattern: "con_[0-9a-z]{26}" })),
    h("label", {}, t("privacy.reason"), h("input", { name: "reason", required: true })),
    h("button", { type: "submit" }, t("privacy.place_hold")));
  return form;
}
