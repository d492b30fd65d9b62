// @ts-check
// The audit viewer for compliance officers: events filtered by record, action, actor and
// time; each event's proof checked here, in the browser (merkle.js), up to the newest
// signed checkpoint; a record's history as of a date with the field changes; exports.
import { api, problemText } from "../api.js";
import { field, h, show } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { leafHash, parseCheckpoint, rootFromInclusionProof, verifyPartyBundle } from "../merkle.js";
import { instantOf } from "./records.js";

const filters = ["entity_type", "entity_id", "action", "actor"];

/**
 * @param {HTMLElement} main
 * @param {string[]} _params
 * @param {URLSearchParams} query
 */
export async function renderAudit(main, _params, query) {
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of [...filters, "from", "to"]) if (field(form, name)) next.set(name, field(form, name));
    location.hash = `#/audit?${next}`;
  } },
    filters.map((name) => h("label", {}, t(/** @type {any} */ (`audit.${name}`)), h("input", { name, value: query.get(name) ?? "" }))),
    h("label", {}, t("audit.from"), h("input", { name: "from", type: "datetime-local", value: query.get("from") ?? "" })),
    h("label", {}, t("audit.to"), h("input", { name: "to", type: "datetime-local", value: query.get("to") ?? "" })),
    h("button", { type: "submit", class: "primary" }, t("audit.filter")));
  const period = {
    from: query.get("from") ? instantOf(/** @type {string} */ (query.get("from"))) : undefined,
    to: query.get("to") ? instantOf(/** @type {string} */ (query.get("to"))) : undefined,
  };
  const exportQuery = new URLSearchParams(Object.entries(period).filter((e) => e[1] !== undefined).map(([k, v]) => [k, String(v)]));
  const rows = h("tbody", {});
  const more = h("button", { type: "button", class: "link", hidden: true }, t("board.more"));
  const checkpoint = await api.GET("/v1/audit/checkpoint", { parseAs: "text" });
  const signed = typeof checkpoint.data === "string" ? parseCheckpoint(checkpoint.data) : null;
  /** @type {string | null | undefined} */
  let cursor;
  const load = async () => {
    const page = await api.GET("/v1/audit/events", { params: { query: {
      ...Object.fromEntries(filters.map((n) => [n, query.get(n) ?? undefined])), ...period, limit: 50,
      ...(cursor ? { cursor } : {}) } } });
    if (!page.data) return rows.append(h("tr", {}, h("td", { colspan: 6, class: "error" }, problemText(page.error))));
    for (const event of page.data.data) rows.append(eventRow(event, signed));
    cursor = page.data.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  more.addEventListener("click", load);
  show(main,
    h("h1", {}, t("nav.audit")),
    form,
    h("p", { class: "muted" }, signed ? t("audit.checkpoint", { size: signed.treeSize, origin: signed.origin }) : t("audit.no_checkpoint")),
    h("p", {}, t("audit.export"), " ",
      ["csv", "jsonl", "ocsf"].map((f) => h("a", { href: `/v1/audit/export?format=${f}${exportQuery.size ? "&" + exportQuery : ""}`, download: `audit.${f === "csv" ? "csv" : "jsonl"}`, class: "export" }, f.toUpperCase()))),
    bundleForm(),
    h("table", { class: "audit" },
      h("thead", {}, h("tr", {}, [t("audit.seq"), t("audit.when"), t("audit.action"), t("audit.record"), t("audit.actor"), t("audit.proof")]
        .map((c) => h("th", { scope: "col" }, c)))),
      rows),
    more);
  await load();
}

/**
 * @param {{seq: number, leaf_hash: string, leaf: any}} event
 * @param {{treeSize: number, root: string} | null} signed
 */
function eventRow(event, signed) {
  const leaf = event.leaf ?? {};
  const entity = leaf.entity ?? {};
  const result = h("td", { class: "proof" },
    h("button", { type: "button", class: "link", onclick: async () => {
      show(result, t("audit.checking"));
      show(result, await checkProof(event, signed));
    } }, t("audit.verify")));
  return h("tr", { "data-seq": event.seq },
    h("td", { class: "number" }, String(event.seq)),
    h("td", {}, dateTime(leaf.recorded_at)),
    h("td", {}, leaf.action ?? ""),
    h("td", {}, entity.type && entity.id ? h("a", { href: `#/audit/history/${entity.type}/${entity.id}` }, `${entity.type} ${entity.id}`) : "—"),
    h("td", {}, leaf.actor ? `${leaf.actor.type} ${leaf.actor.id ?? ""}` : ""),
    result);
}

/**
 * The leaf hashed here must be the one the log holds, and its proof must lead to the
 * signed checkpoint's root (or, for an event newer than the checkpoint, to the current
 * tree's root — said so).
 * @param {{seq: number, leaf_hash: string, leaf: unknown}} event
 * @param {{treeSize: number, root: string} | null} signed
 */
async function checkProof(event, signed) {
  const computed = await leafHash(event.leaf);
  if (computed !== event.leaf_hash) return h("span", { class: "bad", role: "alert" }, "✗ ", t("audit.leaf_mismatch"));
  const underCheckpoint = signed !== null && event.seq < signed.treeSize;
  const size = underCheckpoint && signed ? signed.treeSize : event.seq + 1;
  const proof = await api.GET("/v1/audit/proof/inclusion", { params: { query: { seq: event.seq, tree_size: size } } });
  if (!proof.data) return h("span", { class: "bad" }, problemText(proof.error));
  const p = proof.data;
  const root = await rootFromInclusionProof(p.leaf_index, p.tree_size, computed, p.proof);
  const expected = underCheckpoint && signed ? signed.root : p.root;
  if (root === null || root !== expected) return h("span", { class: "bad", role: "alert" }, "✗ ", t("audit.proof_invalid"));
  return h("span", { class: "good", "data-verified": underCheckpoint ? "checkpoint" : "tree" }, "✓ ",
    underCheckpoint ? t("audit.verified_checkpoint", { size }) : t("audit.verified_tree", { size }));
}

/**
 * @param {HTMLElement} main
 * @param {string[]} params [entity type, id]
 * @param {URLSearchParams} query
 */
export async function renderHistory(main, [type = "", id = ""], query) {
  const asOf = query.get("as_of");
  const { data, error } = await api.GET("/v1/audit/entities/{type}/{id}/history", {
    params: { path: { type, id }, query: asOf ? { as_of: instantOf(asOf) } : {} } });
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    const when = field(form, "as_of");
    location.hash = `#/audit/history/${type}/${id}${when ? "?as_of=" + encodeURIComponent(when) : ""}`;
  } }, h("label", {}, t("audit.as_of"), h("input", { name: "as_of", type: "datetime-local", value: asOf ?? "" })),
     h("button", { type: "submit" }, t("audit.show")));
  if (!data) {
    show(main, h("h1", {}, `${type} ${id}`), h("p", { class: "error", role: "alert" }, problemText(error)));
    return;
  }
  const record = /** @type {any} */ (data).record;
  show(main,
    h("h1", {}, t("audit.history_of", { type, id })),
    form,
    record !== undefined ? h("section", { "aria-label": t("audit.record_then") }, h("h2", {}, t("audit.record_then")),
      record === null ? h("p", { class: "muted" }, t("audit.not_yet")) :
      h("dl", { class: "facts" }, Object.entries(record).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, display(v))]))) : null,
    h("ol", { class: "versions" }, data.versions.map((v) => h("li", {},
      h("p", {}, h("strong", {}, v.action), " · ", dateTime(v.recorded_at), " · ", v.actor ? `${v.actor.type} ${v.actor.id ?? ""}` : "",
        v.reason ? h("span", { class: "reason" }, " — ", v.reason) : null),
      h("table", { class: "diff" }, h("thead", {}, h("tr", {}, [t("audit.field"), t("audit.before"), t("audit.after")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, Object.entries(v.changes ?? {}).map(([name, change]) => h("tr", {},
          h("td", {}, name), h("td", { class: "before" }, display(/** @type {any} */ (change)?.from)),
          h("td", { class: "after" }, display(/** @type {any} */ (change)?.to))))))))));
}

/** @param {unknown} v */
function display(v) {
  if (v === null || v === undefined) return "—";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/**
 * A bundle checked here, in the browser: a proposal's proof, a regulator export or a
 * data subject's report, with the log's verifier key (log.vkey) for the signature.
 */
function bundleForm() {
  const result = h("p", { class: "bundle-result", "aria-live": "polite" });
  const form = h("form", { class: "inline-form", "aria-label": t("audit.bundle"), onsubmit: async (event) => {
    event.preventDefault();
    const file = /** @type {HTMLInputElement} */ (form.elements.namedItem("bundle")).files?.[0];
    if (!file) return;
    show(result, t("audit.checking"));
    let parsed;
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      show(result, h("span", { class: "bad" }, "✗ ", t("audit.bundle_not_json")));
      return;
    }
    const vkey = field(form, "vkey");
    const verdict = await verifyPartyBundle(parsed, vkey);
    show(result, verdict.ok
      ? h("span", { class: "good", "data-verdict": verdict.signed ? "signed" : "unsigned" }, "✓ ",
          t("audit.bundle_ok", { proven: verdict.proven, unproven: verdict.unproven }), " ",
          verdict.signed ? t("audit.bundle_signed") : t("audit.bundle_unsigned"))
      : h("span", { class: "bad", role: "alert", "data-verdict": "fail" }, "✗ ", verdict.message));
  } },
    h("h2", {}, t("audit.bundle")),
    h("label", {}, t("audit.bundle_file"), h("input", { name: "bundle", type: "file", accept: ".json,application/json", required: true })),
    h("label", {}, t("audit.bundle_vkey"), h("input", { name: "vkey", placeholder: "crm.example.com/nucleo/ten_…+1a2b3c4d+AQ…" })),
    h("button", { type: "submit" }, t("audit.bundle_check")),
    result);
  return form;
}
