// Pieces every view uses: problem boxes, the confirmation dialog, the
// status line, page headings and region pickers.

import { h, field, select } from './dom.js';
import { regions } from './api.js';

/** A refusal or failure shown to the person, never a blank page. */
export function problemBox(err) {
  const title = err?.title || 'Something went wrong';
  const status = err?.status ? ` (${err.status})` : '';
  return h('div', { class: 'problem', role: 'alert', testid: 'problem' },
    h('strong', null, `${title}${status}`),
    h('p', { testid: 'problem-detail' }, err?.detail || err?.message || String(err)),
    err?.errors?.length
      ? h('ul', null, err.errors.map((e) => h('li', null, h('code', null, e.path), ' ', e.message)))
      : null,
    err?.allowed?.length ? h('p', null, `Allowed now: ${err.allowed.join(', ')}`) : null);
}

/** Says something in the polite live region at the top of the page. */
export function announce(message) {
  const status = document.getElementById('status');
  status.textContent = '';
  // A fresh text node so screen readers speak repeated messages.
  requestAnimationFrame(() => { status.textContent = message; });
}

/** The page heading; focused after navigation so keyboards start there. */
export function heading(text, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, text), extra);
}

/**
 * Asks before a consequential action. Resolves to `{ note }` when
 * confirmed, `null` when cancelled (button, Escape or backdrop).
 */
export function confirmAction({ title, message, confirmLabel, note = false, noteRequired = false, danger = false }) {
  return new Promise((resolve) => {
    const noteInput = note ? h('textarea', { name: 'note', rows: 3, maxLength: 1000, required: noteRequired }) : null;
    const form = h('form', { method: 'dialog' },
      h('h2', null, title),
      h('p', null, message),
      noteInput ? field(noteRequired ? 'Note (required)' : 'Note (optional)', noteInput) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'cancel', class: 'secondary', testid: 'confirm-cancel', formNoValidate: true }, 'Cancel'),
        h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary', testid: 'confirm-ok' }, confirmLabel)));
    const dialog = h('dialog', { class: 'confirm', testid: 'confirm-dialog', 'aria-modal': 'true' }, form);
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok';
      dialog.remove();
      resolve(ok ? { note: noteInput ? noteInput.value.trim() : '' } : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    (noteInput || dialog.querySelector('[data-testid=confirm-ok]')).focus();
  });
}

/** A region picker filled from /v1/regions; `all` adds an "every region" option. */
export async function regionSelect(value, { all = false, name = 'region' } = {}) {
  const list = await regions();
  const options = list.map((r) => [r.id, `${r.name} (${r.id})`]);
  if (all) options.unshift(['', 'All regions']);
  return select(name, options, value, { testid: 'region-select' });
}

/** The region a view shows: a region admin's own, else the query's or a default. */
export function regionOf(ctx, fallback) {
  if (ctx.me.role !== 'hq_admin') return ctx.me.region;
  return ctx.query.get('region') || fallback;
}

/** A button that runs `action` once at a time and shows its problem inline. */
export function actionButton(label, props, action) {
  const button = h('button', { type: 'button', ...props }, label);
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action(button);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}
