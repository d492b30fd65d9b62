// @ts-check
// Proposals (docs/proposals.md): a deal's list and the form for a new one; a proposal's
// page to edit its title and lines, preview the PDF, send it (freezing the revision),
// follow its public links and their views, and — once accepted — fetch the proof.
import { api, problemText } from "../api.js";
import { field, h, show } from "../dom.js";
import { dateTime, money, parseMoney } from "../format.js";
import { t } from "../i18n.js";
import { hasRole } from "../session.js";
import { toast } from "./toast.js";

/**
 * A deal's proposals and the form that starts one.
 * @param {string} dealId
 */
export async function proposalsSection(dealId) {
  const listed = await api.GET("/v1/proposals", { params: { query: { deal_id: dealId, limit: 50 } } });
  const form = h("form", { class: "inline-form", "aria-label": t("proposal.new"), onsubmit: async (event) => {
    event.preventDefault();
    const price = parseMoney(field(form, "unit_price"));
    const { data, error } = await api.POST("/v1/proposals", { body: {
      deal_id: dealId, title: field(form, "title"),
      lines: [{ description: field(form, "description"), quantity: Number(field(form, "quantity") || "1"), unit_price: price ?? 0 }] } });
    if (!data) return toast(problemText(error), "error");
    location.hash = `#/proposals/${data.id}`;
  } },
    h("h2", {}, t("proposal.new")),
    h("label", {}, t("proposal.title"), h("input", { name: "title", required: true, maxlength: 300 })),
    h("label", {}, t("proposal.line"), h("input", { name: "description", required: true })),
    h("label", {}, t("proposal.quantity"), h("input", { name: "quantity", type: "number", min: "0.001", step: "0.001", value: "1" })),
    h("label", {}, t("proposal.unit_price"), h("input", { name: "unit_price", inputmode: "decimal", required: true, placeholder: "1.500,00" })),
    h("button", { type: "submit" }, t("proposal.create")));
  return h("section", { "aria-labelledby": "deal-proposals" },
    h("h2", { id: "deal-proposals" }, t("proposal.list")),
    listed.data ? h("ul", {}, listed.data.data.map((p) => h("li", {},
      h("a", { href: `#/proposals/${p.id}` }, p.title), " · ", t(/** @type {any} */ (`proposal.status_${p.status}`)),
      " · ", money(p.total, p.currency)))) : h("p", { class: "error" }, problemText(listed.error)),
    form);
}

/**
 * @param {HTMLElement} main
 * @param {string[]} params [proposal id]
 */
export async function renderProposal(main, [id = ""]) {
  const [proposal, links] = await Promise.all([
    api.GET("/v1/proposals/{id}", { params: { path: { id } } }),
    api.GET("/v1/proposals/{id}/links", { params: { path: { id } } }),
  ]);
  if (!proposal.data) {
    show(main, h("p", { class: "error", role: "alert" }, problemText(proposal.error)));
    return;
  }
  const p = proposal.data;
  const refresh = () => renderProposal(main, [id]);
  const editable = p.status === "draft" || p.status === "sent";
  const lines = h("tbody", {}, (p.lines ?? []).map((/** @type {any} */ line) => h("tr", {},
    h("td", {}, line.description ?? ""), h("td", { class: "number" }, String(line.quantity ?? "")),
    h("td", { class: "number" }, money(line.unit_price, p.currency)), h("td", { class: "number" }, money(line.total, p.currency)))));
  const addLine = h("form", { class: "inline-form", "aria-label": t("proposal.add_line"), onsubmit: async (event) => {
    event.preventDefault();
    const line = { description: field(addLine, "description"), quantity: Number(field(addLine, "quantity") || "1"),
                   unit_price: parseMoney(field(addLine, "unit_price")) ?? 0 };
    const { data, error } = await api.PATCH("/v1/proposals/{id}", {
      params: { path: { id }, header: { "If-Match": `"${p.version}"` } },
      body: { lines: [...(p.lines ?? []).map((/** @type {any} */ l) => ({ description: l.description, quantity: l.quantity,
        unit_price: l.unit_price, ...(l.product_id ? { product_id: l.product_id } : {}) })), line] } });
    if (!data) return toast(problemText(error), "error");
    await refresh();
  } },
    h("h3", {}, t("proposal.add_line")),
    h("label", {}, t("proposal.line"), h("input", { name: "description", required: true })),
    h("label", {}, t("proposal.quantity"), h("input", { name: "quantity", type: "number", min: "0.001", step: "0.001", value: "1" })),
    h("label", {}, t("proposal.unit_price"), h("input", { name: "unit_price", inputmode: "decimal", required: true })),
    h("button", { type: "submit" }, t("proposal.add")));
  const preview = h("div", { class: "preview" });
  show(main,
    h("h1", {}, p.title),
    h("p", {}, t(/** @type {any} */ (`proposal.status_${p.status}`)), " · ", t("proposal.revision", { n: p.revision ?? 1 }),
      " · ", h("a", { href: `#/deals/${p.deal_id}` }, t("proposal.deal"))),
    h("table", {}, h("thead", {}, h("tr", {}, [t("proposal.line"), t("proposal.quantity"), t("proposal.unit_price"), t("proposal.total")]
      .map((c) => h("th", { scope: "col" }, c)))), lines,
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, t("proposal.total")), h("td", { class: "number" }, money(p.total, p.currency))))),
    editable ? addLine : null,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => show(preview, h("iframe", { title: t("proposal.preview"),
        src: `/v1/proposals/${id}/preview?format=pdf`, class: "pdf" })) }, t("proposal.preview")),
      editable ? h("button", { type: "button", class: "primary", onclick: async () => {
        const sent = await api.POST("/v1/proposals/{id}/send", { params: { path: { id } }, body: {} });
        if (!sent.data) return toast(problemText(sent.error), "error");
        toast(t("proposal.sent", { n: sent.data.version.revision }));
        await refresh();
      } }, t("proposal.send")) : null,
      p.status === "accepted" && hasRole("admin", "auditor")
        ? h("a", { href: `/v1/proposals/${id}/proof`, download: `${id}-proof.json` }, t("proposal.proof")) : null),
    preview,
    h("section", { "aria-labelledby": "prop-links" },
      h("h2", { id: "prop-links" }, t("proposal.links")),
      links.data ? h("table", {}, h("thead", {}, h("tr", {}, [t("proposal.revision_short"), t("proposal.link"), t("proposal.views"), t("proposal.last_view"), t("proposal.expires")]
        .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, links.data.data.map((l) => h("tr", {},
          h("td", {}, String(l.revision)), h("td", {}, l.url ?? l.path), h("td", { class: "number" }, String(l.view_count)),
          h("td", {}, dateTime(l.last_viewed_at)), h("td", {}, l.revoked_at ? t("proposal.revoked") : dateTime(l.expires_at))))))
        : h("p", { class: "error" }, problemText(links.error))));
}
