// @ts-check
import { problemText } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import * as session from "../session.js";

/**
 * The sign-in form: the organisation (tenant id, remembered on this browser), e-mail and
 * password. A wrong password, a lockout and the address's rate limit come back as the
 * server words them.
 * @param {() => Promise<void>} signedIn
 */
export function renderSignIn(signedIn) {
  const message = h("p", { class: "error", role: "alert", id: "sign-in-error" });
  const form = h("form", { class: "sign-in", "aria-describedby": "sign-in-error", onsubmit: async (event) => {
    event.preventDefault();
    const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button"));
    submit.disabled = true;
    message.textContent = "";
    const { error, status } = await session.signIn(field(form, "tenant"), field(form, "email"),
      /** @type {HTMLInputElement} */ (form.elements.namedItem("password")).value);
    submit.disabled = false;
    if (error) {
      message.textContent = status === 401 ? t("sign_in.wrong") : problemText(error);
      return;
    }
    await signedIn();
  } },
    h("h1", {}, t("sign_in.title")),
    h("label", {}, t("sign_in.tenant"),
      h("input", { name: "tenant", required: true, value: session.rememberedTenant(), autocomplete: "organization",
                   pattern: "ten_[0-9a-z]{26}", title: t("sign_in.tenant_hint") })),
    h("label", {}, t("sign_in.email"), h("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
    h("label", {}, t("sign_in.password"),
      h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
    h("button", { type: "submit", class: "primary" }, t("sign_in.submit")),
    message);
  return h("main", { id: "main", class: "centered" }, form);
}
