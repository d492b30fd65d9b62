// @ts-check
// Administration: people (create, role, password reset, sign out everywhere), teams,
// channel accounts and their problems, webhooks, plugins and their load errors, and the
// pipelines as definitions (docs/sales-process.md) applied with a dry run first.
import { api, problemText } from "../api.js";
import { dialog, field, h, show } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { toast } from "./toast.js";

const roles = ["admin", "manager", "sales", "support", "marketing", "auditor"];

/**
 * @param {HTMLElement} main
 */
export async function renderAdmin(main) {
  const [users, teams, channels, hooks, plugins, pipelines, keys] = await Promise.all([
    api.GET("/v1/users", { params: { query: { limit: 200 } } }),
    api.GET("/v1/teams", { params: { query: { limit: 200 } } }),
    api.GET("/v1/channels/accounts"),
    api.GET("/v1/webhooks"),
    api.GET("/v1/plugins"),
    api.GET("/v1/pipelines", { params: { query: { limit: 200 } } }),
    api.GET("/v1/keys"),
  ]);
  const refresh = () => renderAdmin(main);
  /** @param {string} id @param {string} title @param {...(Node | string | null)} body */
  const section = (id, title, ...body) => h("section", { "aria-labelledby": id, class: "admin-section" }, h("h2", { id }, title), ...body);
  /** @param {string[]} head @param {Node[]} rows */
  const table = (head, rows) => h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows));
  /** @param {{error?: unknown}} r */
  const failed = (r) => h("p", { class: "error" }, problemText(r.error));

  show(main,
    h("h1", {}, t("nav.admin")),
    section("adm-users", t("admin.users"),
      users.data ? table([t("admin.name"), t("admin.email"), t("admin.role"), t("admin.active"), ""],
        users.data.data.map((u) => h("tr", {},
          h("td", {}, u.name), h("td", {}, u.email), h("td", {}, t(/** @type {any} */ (`role.${u.role}`))),
          h("td", {}, u.active === false ? t("admin.no") : t("admin.yes")),
          h("td", {}, h("div", { class: "actions" },
            h("button", { type: "button", class: "link", onclick: () => resetPassword(u.id, u.name) }, t("admin.reset_password")),
            h("button", { type: "button", class: "link", onclick: async () => {
              const r = await api.DELETE("/v1/users/{id}/sessions", { params: { path: { id: u.id } } });
              toast(r.data ? t("admin.signed_out", { name: u.name, n: r.data.sessions_signed_out }) : problemText(r.error), r.data ? "info" : "error");
            } }, t("admin.sign_out_everywhere"))))))) : failed(users),
      newUserForm(refresh)),
    section("adm-keys", t("admin.keys"),
      keys.data ? table([t("admin.name"), t("admin.role"), t("admin.scopes"), t("admin.last_used"), t("admin.status"), ""],
        keys.data.data.map((k) => h("tr", { "data-key": k.id },
          h("td", {}, k.name), h("td", {}, k.role), h("td", {}, k.scopes.join(", ") || "—"),
          h("td", {}, dateTime(k.last_used_at)), h("td", {}, k.revoked_at ? t("admin.revoked") : t("admin.active_key")),
          h("td", {}, k.revoked_at ? null : h("button", { type: "button", class: "link", onclick: async () => {
            const r = await api.POST("/v1/keys/{id}/revoke", { params: { path: { id: k.id } } });
            if (!r.data) return toast(problemText(r.error), "error");
            toast(t("admin.key_revoked", { name: k.name }));
            await refresh();
          } }, t("admin.revoke")))))) : failed(keys),
      newKeyForm(refresh)),
    section("adm-teams", t("admin.teams"),
      teams.data ? h("ul", {}, teams.data.data.map((team) => h("li", {}, team.name))) : failed(teams),
      newTeamForm(refresh)),
    section("adm-channels", t("admin.channels"),
      channels.data ? table([t("admin.name"), t("admin.plugin"), t("admin.external_id"), t("admin.problem")],
        channels.data.data.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.plugin_id), h("td", {}, c.external_id),
          h("td", { class: c.problem ? "error" : "" }, c.problem ? `${c.problem.code}: ${c.problem.message}` : "—")))) : failed(channels)),
    section("adm-webhooks", t("admin.webhooks"),
      hooks.data ? table([t("admin.url"), t("admin.events"), t("admin.status")],
        hooks.data.data.map((w) => h("tr", {}, h("td", {}, w.url), h("td", {}, (w.events ?? []).join(", ")),
          h("td", {}, w.status)))) : failed(hooks)),
    section("adm-plugins", t("admin.plugins"),
      plugins.data ? h("div", {},
        plugins.data.safe_mode ? h("p", { class: "error" }, t("admin.safe_mode")) : null,
        table([t("admin.alias"), t("admin.plugin"), t("admin.version"), t("admin.status")],
          plugins.data.data.map((p) => h("tr", { "data-plugin": p.alias }, h("td", {}, p.alias), h("td", {}, p.id ?? "—"), h("td", {}, p.version ?? "—"),
            h("td", { class: p.loaded ? "good" : "error" }, p.loaded ? t("admin.loaded") : `${t("admin.not_loaded")}: ${p.problem ?? ""}`))))) : failed(plugins)),
    section("adm-pipelines", t("admin.pipelines"),
      pipelines.data ? h("ul", {}, pipelines.data.data.map((p) => h("li", {},
        p.name, " ", h("button", { type: "button", class: "link", onclick: () => editDefinition(p.id, p.name) }, t("admin.edit_definition"))))) : failed(pipelines)));
}

/** @param {() => Promise<void>} done */
function newUserForm(done) {
  const form = h("form", { class: "inline-form", "aria-label": t("admin.new_user"), onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/users", { body: {
      name: field(form, "name"), email: field(form, "email"), role: /** @type {"sales"} */ (field(form, "role")) } });
    if (!data) return toast(problemText(error), "error");
    toast(t("admin.user_created", { name: data.name }));
    await done();
    resetPassword(data.id, data.name);
  } },
    h("h3", {}, t("admin.new_user")),
    h("label", {}, t("admin.name"), h("input", { name: "name", required: true, maxlength: 200 })),
    h("label", {}, t("admin.email"), h("input", { name: "email", type: "email", required: true })),
    h("label", {}, t("admin.role"), h("select", { name: "role" }, roles.map((r) => h("option", { value: r, selected: r === "sales" }, t(/** @type {any} */ (`role.${r}`)))))),
    h("button", { type: "submit", class: "primary" }, t("admin.create_user")));
  return form;
}

/** @param {() => Promise<void>} done */
function newTeamForm(done) {
  const form = h("form", { class: "inline-form", "aria-label": t("admin.new_team"), onsubmit: async (event) => {
    event.preventDefault();
    const { data, error } = await api.POST("/v1/teams", { body: { name: field(form, "name") } });
    if (!data) return toast(problemText(error), "error");
    await done();
  } }, h("label", {}, t("admin.new_team"), h("input", { name: "name", required: true, maxlength: 200 })),
     h("button", { type: "submit" }, t("admin.create_team")));
  return form;
}

/**
 * An admin sets (or resets) a person's password; their sessions end and a lockout lifts.
 * @param {string} id
 * @param {string} name
 */
function resetPassword(id, name) {
  const form = h("form", { onsubmit: async (event) => {
    event.preventDefault();
    const password = /** @type {HTMLInputElement} */ (form.elements.namedItem("password")).value;
    const { data, error } = await api.PUT("/v1/users/{id}/password", { params: { path: { id } }, body: { password } });
    if (!data) return toast(problemText(error), "error");
    box.close();
    toast(t("admin.password_set", { name }));
  } },
    h("label", {}, t("admin.new_password"), h("input", { name: "password", type: "password", required: true, minlength: 12, autocomplete: "new-password" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("admin.set_password")),
      h("button", { type: "button", class: "link", onclick: () => box.close() }, t("common.cancel"))));
  const box = dialog(t("admin.reset_password_of", { name }), [form]);
}

/**
 * A pipeline as its definition (stages, gates, checklists) in JSON: a dry run shows the
 * changes before they are applied in one audited transaction.
 * @param {string} id
 * @param {string} name
 */
async function editDefinition(id, name) {
  const current = await api.GET("/v1/pipelines/{id}/definition", { params: { path: { id } } });
  if (!current.data) return toast(problemText(current.error), "error");
  const result = h("pre", { class: "diff-result", "aria-live": "polite" });
  /** @param {boolean} dryRun */
  const apply = async (dryRun) => {
    let definition;
    try {
      definition = JSON.parse(field(form, "definition"));
    } catch (e) {
      result.textContent = String(e);
      return;
    }
    const { data, error } = await api.PUT("/v1/pipelines/{id}/definition", {
      params: { path: { id }, query: { dry_run: dryRun ? "true" : "false" } }, body: definition });
    result.textContent = data
      ? `${dryRun ? t("admin.dry_run") : t("admin.applied")}: ${data.changes.length} ${t("admin.changes")}\n` +
        data.changes.map((c) => `${c.op} ${c.entity} ${c.key ?? ""} ${JSON.stringify(c.fields ?? {})}`).join("\n")
      : problemText(error);
  };
  const form = h("form", { onsubmit: (event) => { event.preventDefault(); apply(false); } },
    h("label", {}, t("admin.definition"), h("textarea", { name: "definition", rows: 18, spellcheck: "false", class: "code",
                                                         value: JSON.stringify(current.data, null, 2) })),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => apply(true) }, t("admin.dry_run")),
      h("button", { type: "submit", class: "primary" }, t("admin.apply")),
      h("button", { type: "button", class: "link", onclick: () => box.close() }, t("common.close"))),
    result);
  const box = dialog(name, [form]);
  box.classList.add("wide");
}

/**
 * An integration key with the scopes it needs; its secret is shown here once.
 * @param {() => Promise<void>} done
 */
function newKeyForm(done) {
  const form = h("form", { class: "inline-form", "aria-label": t("admin.new_key"), onsubmit: async (event) => {
    event.preventDefault();
    const scopes = field(form, "scopes").split(",").map((x) => x.trim()).filter(Boolean);
    const { data, error } = await api.POST("/v1/keys", { body: { name: field(form, "name"), role: "integration", integration: true, scopes } });
    if (!data) return toast(problemText(error), "error");
    form.reset();
    const box = dialog(t("admin.key_created", { name: data.key.name }), [
      h("p", {}, t("admin.key_once")),
      h("pre", { class: "secret", tabindex: "0" }, data.secret),
      h("button", { type: "button", class: "primary", onclick: () => box.close() }, t("common.close"))]);
    box.addEventListener("close", () => { done(); });
  } },
    h("h3", {}, t("admin.new_key")),
    h("label", {}, t("admin.name"), h("input", { name: "name", required: true, maxlength: 200 })),
    h("label", {}, t("admin.scopes"), h("input", { name: "scopes", required: true, placeholder: "deals:read, accounts:write" })),
    h("button", { type: "submit" }, t("admin.create_key")));
  return form;
}
