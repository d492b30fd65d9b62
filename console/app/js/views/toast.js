// @ts-check
import { h } from "../dom.js";

/**
 * A short message in a live region (screen readers announce it), gone after a while.
 * @param {string} text
 * @param {"info" | "error"} [kind]
 */
export function toast(text, kind = "info") {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const item = h("p", { class: `toast ${kind}`, role: kind === "error" ? "alert" : null }, text);
  region.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 10_000 : 4_000);
}
