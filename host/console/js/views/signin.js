// Sign-in with an API token: checked against GET /v1/me before it is kept
// (in sessionStorage, so it ends with the browser tab).

import { h, field } from '../dom.js';
import { api } from '../api.js';
import { problemBox } from '../ui.js';

export function signIn({ onSignedIn, notice }) {
  const input = h('input', {
    type: 'password', name: 'token', autocomplete: 'current-password', required: true,
    spellcheck: 'false', testid: 'token-input',
  });
  const slot = h('div', { class: 'form-problem' });
  if (notice) {
    slot.append(problemBox({ ...notice, title: 'Please sign in again', detail: notice.detail }));
  }
  const button = h('button', { type: 'submit', class: 'primary', testid: 'sign-in' }, 'Sign in');
  const form = h('form', {
    class: 'signin', testid: 'signin-form',
    on: {
      submit: async (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        button.disabled = true;
        slot.replaceChildren();
        try {
          const caller = await api('/me', { bearer: value });
          await onSignedIn(caller, value);
        } catch (err) {
          slot.replaceChildren(problemBox(err.status === 401
            ? { ...err, title: 'Sign-in refused', detail: `${err.detail}. Check the token and try again.` }
            : err));
          input.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
  },
  h('h1', { tabindex: '-1' }, 'Sign in'),
  h('p', null, 'Use the API token your administrator gave you. What you see follows its role: HQ, a regional center, or a dealer.'),
  // Password managers pair a secret with a user name; a token has none.
  h('input', { type: 'text', name: 'username', autocomplete: 'username', value: 'api-token', hidden: true, 'aria-hidden': 'true', tabindex: '-1' }),
  field('API token', input, 'Kept only in this browser tab until you sign out.'),
  slot,
  h('div', { class: 'actions' }, button));
  return h('section', { class: 'signin-page' }, form);
}
