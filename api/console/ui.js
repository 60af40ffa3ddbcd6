// The console's one view layer: Preact with hooks, written as htm templates
// (tagged template literals), so no compiler or build step is needed.
import { h, render } from "./vendor/preact.module.js";
import htm from "./vendor/htm.module.js";

export { render };
export {
  useCallback,
  useEffect,
  useRef,
  useState,
} from "./vendor/hooks.module.js";
export const html = htm.bind(h);

// Dates as the reader's local time, to the minute.
export function when(iso) {
  if (!iso) return "-";
  return new Date(iso).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

// A userError's field names the input path ("input.width"); forms key by the
// last part ("width").
export function errorsByField(userErrors) {
  const found = {};
  for (const e of userErrors || []) {
    const path = Array.isArray(e.field) ? e.field : e.field ? [e.field] : [];
    const key = path.length ? path[path.length - 1] : "_";
    (found[key] = found[key] || []).push(e.message);
  }
  return found;
}

export function FieldError({ errors, name }) {
  const messages = errors[name];
  if (!messages) return null;
  return html`<span class="field-error" data-field=${name}>${messages.join("; ")}</span>`;
}

export function Problem({ error }) {
  if (!error) return null;
  return html`<p class="problem" role="alert">${String(error.message || error)}</p>`;
}

export function copyText(text) {
  return navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject();
}
