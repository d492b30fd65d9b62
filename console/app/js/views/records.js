// @ts-check
// Pieces the record pages share: a definition list of fields, the interaction form
// (log a call, a visit, a note) and the task form.
import { api, problemText } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import { current } from "../session.js";
import { toast } from "./toast.js";

/**
 * @param {[string, string | number | Node | null | undefined][]} rows label, value
 */
export function facts(rows) {
  return h("dl", { class: "facts" },
    rows.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value ?? "—")]));
}

/** A datetime-local input's value ("2026-12-06T14:30") as an RFC 3339 instant of this browser's zone. @param {string} local */
export function instantOf(local) {
  return new Date(local).toISOString();
}

/**
 * Logs an interaction on a deal or an account (POST /v1/interactions): a call by default.
 * @param {{account_id: string, deal_id?: string, contact_id?: string}} on
 * @param {() => Promise<void> | void} done
 */
export function interactionForm(on, done) {
  const types = ["call", "meeting", "visit", "note", "email", "whatsapp"];
  const form = h("form", { class: "inline-form", "aria-label": t("interaction.log"), onsubmit: async (event) => {
    event.preventDefault();
    const type = /** @type {"call" | "meeting" | "visit" | "note" | "email" | "whatsapp"} */ (field(form, "type"));
    const { data, error } = await api.POST("/v1/interactions", { body: {
      type, direction: type === "note" ? "internal" : "outbound", subject: field(form, "subject") || undefined,
      body: field(form, "body") || undefined, occurred_at: new Date().toISOString(), ...on } });
    if (!data) return toast(problemText(error), "error");
    toast(t("interaction.logged"));
    form.reset();
    await done();
  } },
    h("h2", {}, t("interaction.log")),
    h("label", {}, t("interaction.type"),
      h("select", { name: "type" }, types.map((ty) => h("option", { value: ty }, t(/** @type {any} */ (`interaction.${ty}`)))))),
    h("label", {}, t("interaction.subject"), h("input", { name: "subject", maxlength: 500 })),
    h("label", {}, t("interaction.body"), h("textarea", { name: "body", rows: 3 })),
    h("button", { type: "submit", class: "primary" }, t("interaction.save")));
  return form;
}

/**
 * A follow-up task for the signed-in user (POST /v1/tasks).
 * @param {{account_id?: string, deal_id?: string}} on
 * @param {() => Promise<void> | void} done
 */
export function taskForm(on, done) {
  const form = h("form", { class: "inline-form", "aria-label": t("task.new"), onsubmit: async (event) => {
    event.preventDefault();
    const due = field(form, "due_at");
    const { data, error } = await api.POST("/v1/tasks", { body: {
      title: field(form, "title"), due_at: due ? instantOf(due) : undefined,
      assignee_id: current()?.user_id ?? undefined, ...on } });
    if (!data) return toast(problemText(error), "error");
    toast(t("task.created"));
    form.reset();
    await done();
  } },
    h("h2", {}, t("task.new")),
    h("label", {}, t("task.title"), h("input", { name: "title", required: true, maxlength: 500 })),
    h("label", {}, t("task.due"), h("input", { name: "due_at", type: "datetime-local" })),
    h("button", { type: "submit" }, t("task.create")));
  return form;
}
