// @ts-check
// Building the page from elements, never from HTML strings: nothing a record holds (a
// name, a message) is ever parsed as markup, and the Content-Security-Policy needs no
// inline code.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {{[name: string]: string | number | boolean | null | undefined | EventListener}} Attributes
 */

/**
 * An element: `h("button", {class: "primary", onclick: save}, "Salvar")`. Attributes
 * named on… are listeners; `false`, null and undefined leave an attribute (or a child) out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "value" && "value" in element) /** @type {HTMLInputElement} */ (element).value = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/**
 * @param {Node} parent
 * @param {(Child | Child[])[]} children
 */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces what `parent` shows.
 * @param {Node} parent
 * @param {...(Child | Child[])} children
 */
export function show(parent, ...children) {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/**
 * The value of a named control of a form, trimmed ("" when absent).
 * @param {HTMLFormElement} form
 * @param {string} name
 */
export function field(form, name) {
  const control = form.elements.namedItem(name);
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement ||
      control instanceof HTMLTextAreaElement)
    return control.value.trim();
  return "";
}

/**
 * A modal dialog (the native <dialog>: focus kept inside, Escape closes it).
 * @param {string} title
 * @param {(Child | Child[])[]} body
 * @returns {HTMLDialogElement}
 */
export function dialog(title, body) {
  const id = "dlg-" + Math.random().toString(36).slice(2);
  const element = h("dialog", { "aria-labelledby": id, class: "dialog" }, h("h2", { id }, title), ...body);
  element.addEventListener("close", () => element.remove());
  document.body.appendChild(element);
  element.showModal();
  return element;
}
