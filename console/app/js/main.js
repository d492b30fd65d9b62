// @ts-check
// The console's shell: sign-in, the navigation, and a hash router (#/board, #/deals/…)
// so the server serves one page and every view has an address a person can share.
import { whenSignedOut } from "./api.js";
import { h, show } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import * as session from "./session.js";
import { renderSignIn } from "./views/sign_in.js";
import { renderBoard } from "./views/board.js";
import { renderDeal } from "./views/deal.js";
import { renderAccount, renderNewAccount } from "./views/account.js";
import { renderAccounts } from "./views/accounts.js";
import { renderAgenda } from "./views/agenda.js";
import { renderSearch } from "./views/search.js";
import { renderInbox } from "./views/inbox.js";
import { renderImports } from "./views/imports.js";
import { renderAudit, renderHistory } from "./views/audit.js";
import { renderAdmin } from "./views/admin.js";
import { renderPrivacy } from "./views/privacy.js";
import { renderInsight } from "./views/insight.js";
import { renderProposal } from "./views/proposals.js";

/** @typedef {(main: HTMLElement, params: string[], query: URLSearchParams) => Promise<void> | void} View */

/** @type {[RegExp, View, string[]?][]} pattern, view, roles that see it (all when absent) */
const routes = [
  [/^\/?$/, renderBoard],
  [/^\/board\/(pipe_[0-9a-z]+)$/, renderBoard],
  [/^\/deals\/(deal_[0-9a-z]+)$/, renderDeal],
  [/^\/accounts$/, renderAccounts],
  [/^\/accounts\/new$/, renderNewAccount],
  [/^\/accounts\/(acc_[0-9a-z]+)$/, renderAccount],
  [/^\/agenda$/, renderAgenda],
  [/^\/search$/, renderSearch],
  [/^\/inbox$/, renderInbox],
  [/^\/imports$/, renderImports, ["admin"]],
  [/^\/audit$/, renderAudit, ["admin", "auditor"]],
  [/^\/audit\/history\/([a-z_]+)\/([a-z]+_[0-9a-z]+)$/, renderHistory, ["admin", "auditor"]],
  [/^\/privacy$/, renderPrivacy, ["admin", "auditor"]],
  [/^\/insight$/, renderInsight],
  [/^\/proposals\/(prop_[0-9a-z]+)$/, renderProposal],
  [/^\/admin$/, renderAdmin, ["admin"]],
];

/** @type {[string, string, string[]?][]} */
const navigation = [
  ["#/", "nav.board"],
  ["#/agenda", "nav.agenda"],
  ["#/inbox", "nav.inbox"],
  ["#/accounts", "nav.accounts"],
  ["#/imports", "nav.imports", ["admin"]],
  ["#/insight", "nav.insight"],
  ["#/audit", "nav.audit", ["admin", "auditor"]],
  ["#/privacy", "nav.privacy", ["admin", "auditor"]],
  ["#/admin", "nav.admin", ["admin"]],
];

const app = /** @type {HTMLElement} */ (document.getElementById("app"));

function header() {
  const search = h("form", { class: "global-search", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const q = /** @type {HTMLInputElement} */ (search.elements.namedItem("q")).value.trim();
    if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
  } }, h("label", { for: "global-q", class: "visually-hidden" }, t("search.label")),
     h("input", { id: "global-q", name: "q", type: "search", placeholder: t("search.placeholder"), autocomplete: "off" }));
  const links = navigation
    .filter(([, , roles]) => !roles || session.hasRole(...roles))
    .map(([href, key]) => h("a", { href, "aria-current": isCurrent(href) ? "page" : null }, t(/** @type {any} */ (key))));
  const who = session.current();
  return h("header", { class: "shell" },
    h("a", { class: "brand", href: "#/" }, "Nucleo"),
    h("nav", { "aria-label": t("nav.label") }, links),
    search,
    h("div", { class: "who" },
      h("span", { class: "role" }, who ? t(/** @type {any} */ (`role.${who.role}`)) : ""),
      h("button", { type: "button", class: "link", lang: language() === "en" ? "pt-BR" : "en",
                    onclick: () => { setLanguage(language() === "en" ? "pt-BR" : "en"); route(); } },
        language() === "en" ? "Português" : "English"),
      h("button", { type: "button", class: "link", onclick: async () => { await session.signOut(); route(); } },
        t("nav.sign_out"))));
}

/** @param {string} href */
function isCurrent(href) {
  const here = location.hash || "#/";
  return href === "#/" ? here === "#/" || here.startsWith("#/board") : here.startsWith(href);
}

async function route() {
  document.documentElement.lang = language();
  if (!session.current()) {
    show(app, renderSignIn(async () => route()));
    return;
  }
  const [path, queryText] = (location.hash.replace(/^#/, "") || "/").split("?");
  const main = h("main", { id: "main", tabindex: "-1" });
  show(app, header(), main);
  for (const [pattern, view, roles] of routes) {
    const match = pattern.exec(path ?? "/");
    if (!match) continue;
    if (roles && !session.hasRole(...roles)) break;
    try {
      await view(main, match.slice(1), new URLSearchParams(queryText ?? ""));
    } catch (e) {
      show(main, h("p", { class: "error", role: "alert" }, t("error.unexpected"), " ", String(e)));
    }
    return;
  }
  show(main, h("h1", {}, t("error.not_found")), h("p", {}, h("a", { href: "#/" }, t("nav.board"))));
}

whenSignedOut(() => {
  session.forget();
  route();
});
window.addEventListener("hashchange", route);

session.resume().then(route, route);
