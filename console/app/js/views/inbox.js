// @ts-check
// The unified inbox: every channel's conversations, unanswered first to filter, the
// thread of the one chosen and a reply box. The reply window (WhatsApp's 24 hours) is
// shown; outside it free text is not offered — the server would refuse it (a template
// only, docs/channels.md).
import { api, problemText } from "../api.js";
import { field, h, show } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { toast } from "./toast.js";

/**
 * @param {HTMLElement} main
 * @param {string[]} _params
 * @param {URLSearchParams} query
 */
export async function renderInbox(main, _params, query) {
  const unanswered = query.get("unanswered") === "true";
  const chosen = query.get("c");
  const { data, error } = await api.GET("/v1/conversations", { params: { query: { limit: 50, ...(unanswered ? { unanswered: "true" } : {}) } } });
  if (!data) {
    show(main, h("h1", {}, t("nav.inbox")), h("p", { class: "error", role: "alert" }, problemText(error)));
    return;
  }
  const thread = h("section", { class: "thread", "aria-label": t("inbox.thread") });
  const filter = h("label", { class: "check" }, h("input", { type: "checkbox", checked: unanswered, onchange: () => {
    location.hash = unanswered ? "#/inbox" : "#/inbox?unanswered=true";
  } }), t("inbox.only_unanswered"));
  show(main,
    h("div", { class: "toolbar" }, h("h1", {}, t("nav.inbox")), filter),
    h("div", { class: "inbox" },
      data.data.length === 0 ? h("p", { class: "muted" }, t("inbox.empty")) :
      h("ul", { class: "conversations", "aria-label": t("inbox.conversations") }, data.data.map((c) =>
        h("li", { class: c.id === chosen ? "chosen" : "" },
          h("a", { href: `#/inbox?c=${c.id}${unanswered ? "&unanswered=true" : ""}`, "aria-current": c.id === chosen ? "true" : null },
            h("strong", {}, c.contact_name ?? c.address ?? "—"), " · ", c.type,
            c.unanswered ? h("span", { class: "badge" }, t("inbox.unanswered")) : null,
            h("p", { class: "muted" }, c.last_message.preview ?? ""))))),
      thread));
  const conversation = data.data.find((c) => c.id === chosen);
  if (conversation) await renderThread(thread, conversation, () => renderInbox(main, _params, query));
}

/**
 * @param {HTMLElement} thread
 * @param {any} conversation
 * @param {() => Promise<void>} refresh
 */
async function renderThread(thread, conversation, refresh) {
  const messages = await api.GET("/v1/conversations/{id}/messages", { params: { path: { id: conversation.id }, query: { limit: 50 } } });
  const window = conversation.reply_window;
  const open = !window || window.open;
  const form = h("form", { class: "reply", onsubmit: async (event) => {
    event.preventDefault();
    if (!conversation.contact_id) return;
    const { data, error } = await api.POST("/v1/contacts/{id}/messages", {
      params: { path: { id: conversation.contact_id } },
      body: { channel_account_id: conversation.channel_account_id, text: field(form, "text") } });
    if (!data) return toast(problemText(error), "error");
    toast(t("inbox.sent"));
    await refresh();
  } },
    h("label", {}, t("inbox.reply"), h("textarea", { name: "text", required: true, rows: 3, disabled: !open || !conversation.contact_id })),
    h("button", { type: "submit", class: "primary", disabled: !open || !conversation.contact_id }, t("inbox.send")));
  show(thread,
    h("h2", {}, conversation.contact_name ?? conversation.address ?? ""),
    window ? h("p", { class: open ? "window open" : "window closed" },
      open ? t("inbox.window_open", { hours: window.hours, until: dateTime(window.expires_at) })
           : t("inbox.window_closed", { hours: window.hours })) : null,
    h("ol", { class: "messages" }, (messages.data?.data ?? []).map((m) =>
      h("li", { class: m.direction === "inbound" ? "inbound" : "outbound" },
        h("p", {}, m.body ?? ""), h("p", { class: "muted" }, dateTime(m.occurred_at), " · ", m.delivery_status ?? "")))),
    form);
}
