// @ts-check
// The pipeline board: a column per stage with the number and value of its open deals
// (GET /v1/pipelines/{id}/board, one grouped read), each column's deals loaded a page at
// a time as it scrolls — a pipeline of 300,000 deals never loads them all. A deal moves
// by drag and drop or, from the keyboard, by its "Move" button; a move the stage's gate
// refuses shows the unmet criteria as a checklist, and a manager may override it with a
// reason (docs/sales-process.md).
import { api, problemText } from "../api.js";
import { dialog, field, h, show } from "../dom.js";
import { count, daysSince, money } from "../format.js";
import { t } from "../i18n.js";
import { hasRole } from "../session.js";
import { toast } from "./toast.js";

const pageSize = 25;
const lastPipelineKey = "nucleo.pipeline";

/** @typedef {{id: string, name: string, position: number, kind: "open" | "won" | "lost", gated: boolean, open_deals: number, amounts: {currency: string, amount: number}[]}} Column */
/** @typedef {{id: string, name: string, amount?: number | null, currency?: string, stage_id?: string | null, stage_entered_at?: string | null, account_id: string, version: number}} Deal */

/**
 * @param {HTMLElement} main
 * @param {string[]} params [pipeline id]
 */
export async function renderBoard(main, [chosen]) {
  /** @param {string} id */
  const boardOf = (id) => api.GET("/v1/pipelines/{id}/board", { params: { path: { id } } });
  // The pipeline named or last seen is asked for at once, beside the list of pipelines.
  const guess = chosen ?? localStorage.getItem(lastPipelineKey);
  const [pipelines, guessed] = await Promise.all([
    api.GET("/v1/pipelines", { params: { query: { limit: 200 } } }),
    guess ? boardOf(guess) : Promise.resolve(undefined),
  ]);
  const list = pipelines.data?.data ?? [];
  if (list.length === 0) {
    show(main, h("h1", {}, t("board.title")), h("p", {}, t("board.no_pipelines")));
    return;
  }
  const pipelineId = chosen ?? list.find((p) => p.id === guess)?.id ?? list[0]?.id ?? "";
  localStorage.setItem(lastPipelineKey, pipelineId);
  const board = guessed && pipelineId === guess ? guessed : await boardOf(pipelineId);
  if (!board.data) {
    show(main, h("p", { class: "error", role: "alert" }, problemText(board.error)));
    return;
  }
  const columns = board.data.stages;
  const picker = h("select", { id: "pipeline", onchange: () => { location.hash = `#/board/${picker.value}`; } },
    list.map((p) => h("option", { value: p.id, selected: p.id === pipelineId }, p.name)));
  const totals = columns.reduce((n, c) => n + c.open_deals, 0);
  show(main,
    h("div", { class: "toolbar" },
      h("h1", {}, t("board.title")),
      h("label", { for: "pipeline" }, t("board.pipeline")), picker,
      h("span", { class: "muted" }, t("board.open_deals", { n: count(totals) }))),
    h("div", { class: "board", role: "list" },
      columns.map((column) => renderColumn(column, columns, () => renderBoard(main, [pipelineId])))));
}

/**
 * @param {Column} column
 * @param {Column[]} columns
 * @param {() => Promise<void>} refresh
 */
function renderColumn(column, columns, refresh) {
  const cards = h("ul", { class: "cards", "aria-label": column.name });
  const more = h("button", { type: "button", class: "link", hidden: true }, t("board.more"));
  const value = column.amounts.map((a) => money(a.amount, a.currency)).join(" + ") || money(0);
  const section = h("section", { class: "column", role: "listitem", "aria-label": column.name, "data-stage": column.id },
    h("header", {},
      h("h2", {}, column.name, column.gated ? h("span", { class: "gate-badge" }, t("board.gated")) : null),
      h("p", { class: "muted" }, t("board.column_summary", { n: count(column.open_deals), value }))),
    cards, more);

  /** @type {string | null | undefined} */
  let cursor;
  let loading = false;
  const loadPage = async () => {
    if (loading || cursor === null) return;
    loading = true;
    const page = await api.GET("/v1/deals", { params: { query: {
      stage_id: column.id, status: "open", limit: pageSize, ...(cursor ? { cursor } : {}) } } });
    loading = false;
    if (!page.data) return toast(problemText(page.error), "error");
    for (const deal of page.data.data) cards.append(renderCard(/** @type {Deal} */ (deal), column, columns, refresh));
    cursor = page.data.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  more.addEventListener("click", loadPage);
  // The next page comes when the end of the column scrolls into view.
  const sentinel = h("li", { class: "sentinel", "aria-hidden": "true" });
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadPage().then(() => cards.append(sentinel));
  }, { root: null, rootMargin: "200px" }).observe(sentinel);
  cards.append(sentinel);

  section.addEventListener("dragover", (event) => {
    event.preventDefault();
    section.classList.add("drop-target");
  });
  section.addEventListener("dragleave", () => section.classList.remove("drop-target"));
  section.addEventListener("drop", async (event) => {
    event.preventDefault();
    section.classList.remove("drop-target");
    const id = event.dataTransfer?.getData("text/x-nucleo-deal");
    const from = event.dataTransfer?.getData("text/x-nucleo-stage");
    if (id && from !== column.id) await moveDeal(id, column, refresh);
  });
  return section;
}

/**
 * @param {Deal} deal
 * @param {Column} column
 * @param {Column[]} columns
 * @param {() => Promise<void>} refresh
 */
function renderCard(deal, column, columns, refresh) {
  const days = daysSince(deal.stage_entered_at);
  const card = h("li", { class: "card", draggable: "true", "data-deal": deal.id },
    h("a", { href: `#/deals/${deal.id}` }, deal.name),
    h("p", {}, money(deal.amount, deal.currency)),
    days === null ? null : h("p", { class: "muted" }, t("board.days_in_stage", { n: days })),
    h("button", { type: "button", class: "link", "aria-haspopup": "dialog",
                  "aria-label": t("board.move_named", { name: deal.name }),
                  onclick: () => chooseStage(deal, column, columns, refresh) }, t("board.move")));
  card.addEventListener("dragstart", (event) => {
    event.dataTransfer?.setData("text/x-nucleo-deal", deal.id);
    event.dataTransfer?.setData("text/x-nucleo-stage", column.id);
  });
  return card;
}

/**
 * The keyboard's way to move: a dialog listing the other stages.
 * @param {Deal} deal
 * @param {Column} from
 * @param {Column[]} columns
 * @param {() => Promise<void>} refresh
 */
function chooseStage(deal, from, columns, refresh) {
  const box = dialog(t("board.move_title", { name: deal.name }), [
    h("ul", { class: "choices" }, columns.filter((c) => c.id !== from.id).map((c) =>
      h("li", {}, h("button", { type: "button", onclick: async () => { box.close(); await moveDeal(deal.id, c, refresh); } },
        c.name)))),
    h("button", { type: "button", class: "link", onclick: () => box.close() }, t("common.cancel")),
  ]);
}

/**
 * POST /v1/deals/{id}/stage; a lost stage asks why first, a refused gate shows its checklist.
 * @param {string} dealId
 * @param {Column} stage
 * @param {() => Promise<void>} refresh
 * @param {{override?: boolean, reason?: string, lost_reason?: string}} [extra]
 */
async function moveDeal(dealId, stage, refresh, extra = {}) {
  if (stage.kind === "lost" && !extra.lost_reason) return askLostReason(dealId, stage, refresh);
  const { data, error, response } = await api.POST("/v1/deals/{id}/stage", {
    params: { path: { id: dealId } }, body: { stage_id: stage.id, ...extra } });
  if (data) {
    toast(t("board.moved", { name: data.name, stage: stage.name }));
    return refresh();
  }
  const unmet = (error?.errors ?? []).filter((e) => (e.field ?? "").startsWith("entry_criteria/"));
  if (response.status === 422 && unmet.length > 0) return showGate(dealId, stage, unmet, refresh);
  toast(problemText(error), "error");
}

/**
 * @param {string} dealId
 * @param {Column} stage
 * @param {() => Promise<void>} refresh
 */
function askLostReason(dealId, stage, refresh) {
  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    box.close();
    await moveDeal(dealId, stage, refresh, { lost_reason: field(form, "lost_reason") });
  } }, h("label", {}, t("board.lost_reason"), h("textarea", { name: "lost_reason", required: true, maxlength: 500 })),
     h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("board.move")),
       h("button", { type: "button", class: "link", onclick: () => box.close() }, t("common.cancel"))));
  const box = dialog(t("board.lost_title", { stage: stage.name }), [form]);
}

/**
 * The gate's refusal as a checklist; admins and managers may move anyway, with a reason
 * the audit trail keeps (deal.gate_overridden).
 * @param {string} dealId
 * @param {Column} stage
 * @param {{field?: string, code?: string, message?: string}[]} unmet
 * @param {() => Promise<void>} refresh
 */
function showGate(dealId, stage, unmet, refresh) {
  const checklist = h("ul", { class: "checklist", "aria-label": t("gate.unmet") },
    unmet.map((e) => h("li", { "data-code": e.code ?? "" }, h("span", { "aria-hidden": "true" }, "☐ "), e.message ?? "")));
  /** @type {(HTMLElement | string)[]} */
  const body = [h("p", {}, t("gate.explain", { stage: stage.name })), checklist];
  if (hasRole("admin", "manager")) {
    const form = h("form", { class: "override", onsubmit: async (event) => {
      event.preventDefault();
      box.close();
      await moveDeal(dealId, stage, refresh, { override: true, reason: field(form, "reason") });
    } }, h("label", {}, t("gate.override_reason"),
           h("textarea", { name: "reason", required: true, minlength: 3, maxlength: 1000 })),
       h("div", { class: "actions" },
         h("button", { type: "submit", class: "danger" }, t("gate.override")),
         h("button", { type: "button", class: "link", onclick: () => box.close() }, t("common.close"))));
    body.push(form);
  } else {
    body.push(h("p", { class: "muted" }, t("gate.ask_manager")),
      h("button", { type: "button", onclick: () => box.close() }, t("common.close")));
  }
  const box = dialog(t("gate.title", { stage: stage.name }), body);
}
