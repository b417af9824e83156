// @ts-check
/**
 * The one element builder of the UI (the watch-party panel and its "Watch on…" section).
 *
 * Public API:
 *   h(document, tag, attrs?, children?) → HTMLElement
 *     attrs     class, text (textContent), on<event> (a listener), anything else an attribute
 *               (true: present and empty; undefined, null, false: left out)
 *     children  nodes or strings (text nodes); null, undefined and false are skipped
 *
 * @module ui/dom
 */

/**
 * @param {Document} doc
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {(Node|string|null|false|undefined)[]} [children]
 * @returns {HTMLElement}
 */
export function h(doc, tag, attrs = {}, children = []) {
  const el = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? doc.createTextNode(c) : c);
  }
  return el;
}
