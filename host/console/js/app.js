// The console's shell: sign-in, the navigation each role gets, and the
// route → view dispatch with a problem box instead of a blank page.

import { h } from './dom.js';
import { api, token, setToken, clearToken } from './api.js';
import { current, href, go } from './router.js';
import { problemBox, announce } from './ui.js';
import { signIn } from './views/signin.js';
import { dashboard } from './views/dashboard.js';
import { alerts } from './views/alerts.js';
import { orders } from './views/orders.js';
import { order } from './views/order.js';
import { inventory } from './views/inventory.js';
import { plugins } from './views/plugins.js';
import { deployments, deployment } from './views/deployments.js';

const HQ = 'hq_admin';
const REGION = 'region_admin';
const DEALER = 'dealer';

/** Sections in menu order; `roles` decides who sees them. */
const SECTIONS = [
  { name: 'dashboard', label: () => 'Dashboard', roles: [HQ], list: dashboard },
  { name: 'alerts', label: () => 'Alerts & transfers', roles: [HQ], list: alerts },
  { name: 'orders', label: (me) => (me.role === DEALER ? 'My orders' : 'Orders'), roles: [HQ, REGION, DEALER], list: orders, item: order },
  { name: 'inventory', label: () => 'Inventory', roles: [HQ, REGION], list: inventory },
  { name: 'plugins', label: (me) => (me.role === HQ ? 'Plugins' : 'Plugins & promotions'), roles: [HQ, REGION], list: plugins },
  { name: 'deployments', label: () => 'Deployments', roles: [HQ, REGION], list: deployments, item: deployment },
];

let me = null;
let renderSeq = 0;

function home() {
  return me.role === HQ ? 'dashboard' : 'orders';
}

function describe(caller) {
  switch (caller.role) {
    case HQ: return 'HQ administrator';
    case REGION: return `Region admin · ${caller.region}`;
    case DEALER: return `Dealer ${caller.dealer_id} · ${caller.region}`;
    default: return caller.role;
  }
}

function renderChrome(active) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!me) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  nav.replaceChildren(h('ul', null, SECTIONS.filter((s) => s.roles.includes(me.role)).map((s) =>
    h('li', null, h('a', {
      href: href(s.name),
      testid: `nav-${s.name}`,
      'aria-current': s.name === active ? 'page' : null,
    }, s.label(me))))));
  who.replaceChildren(
    h('span', { testid: 'who', title: me.name }, describe(me)),
    h('button', { type: 'button', class: 'secondary', testid: 'sign-out', on: { click: signOut } }, 'Sign out'));
}

function signOut() {
  clearToken();
  me = null;
  go('signin');
  announce('Signed out.');
}

const NEXT_KEY = 'chanhost.console.next';

async function signedIn(caller, tokenValue) {
  setToken(tokenValue);
  me = caller;
  announce(`Signed in as ${describe(caller)}.`);
  // Back to the page they were sent away from, if any.
  const next = sessionStorage.getItem(NEXT_KEY);
  sessionStorage.removeItem(NEXT_KEY);
  if (next && next !== location.hash) location.hash = next;
  else if (next) render();
  else go(home());
}

function rememberTarget() {
  const hash = location.hash;
  if (hash.startsWith('#/') && hash.length > 2 && !hash.startsWith('#/signin')) {
    sessionStorage.setItem(NEXT_KEY, hash);
  }
}

async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const { path, query } = current();

  if (!me && token()) {
    try {
      me = await api('/me');
    } catch (err) {
      if (seq !== renderSeq) return;
      if (err.status !== 401) {
        // The server is down or failing: keep the token and offer a retry.
        main.replaceChildren(problemBox(err),
          h('button', { type: 'button', class: 'primary', on: { click: () => render() } }, 'Try again'));
        return;
      }
      clearToken();
      me = null;
      rememberTarget();
      renderChrome(null);
      main.replaceChildren(signIn({ onSignedIn: signedIn, notice: err }));
      return;
    }
  }
  if (seq !== renderSeq) return;
  if (!me) {
    renderChrome(null);
    rememberTarget();
    main.replaceChildren(signIn({ onSignedIn: signedIn }));
    focusHeading(main);
    return;
  }
  if (path.length === 0 || path[0] === 'signin') {
    go(home());
    return;
  }
  const section = SECTIONS.find((s) => s.name === path[0]);
  renderChrome(section?.name);
  const ctx = {
    me,
    path,
    query,
    refresh: () => render(),
  };
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading', testid: 'loading' }, 'Loading…'));
  let view;
  try {
    if (!section) {
      throw { title: 'Not found', detail: `There is no page “${path.join('/')}” in the console.` };
    }
    if (!section.roles.includes(me.role)) {
      throw { title: 'Not available', status: 403, detail: `${section.label(me)} is not available to a ${describe(me)}.` };
    }
    const renderer = path.length > 1 && section.item ? section.item : section.list;
    view = await renderer(ctx);
  } catch (err) {
    if (!(err?.status || err?.title)) console.error(err);
    view = problemBox(err);
  }
  if (seq !== renderSeq) return;
  main.replaceChildren(view);
  main.removeAttribute('aria-busy');
  focusHeading(main);
}

function focusHeading(main) {
  const h1 = main.querySelector('h1');
  if (h1) h1.focus({ preventScroll: true });
}

window.addEventListener('hashchange', render);
window.addEventListener('chanhost:unauthorized', (event) => {
  if (!me) return;
  renderSeq += 1; // the view that hit the 401 must not replace the sign-in form
  clearToken();
  me = null;
  rememberTarget();
  renderChrome(null);
  document.getElementById('main').replaceChildren(signIn({ onSignedIn: signedIn, notice: event.detail }));
});
document.querySelector('[data-skip]').addEventListener('click', (event) => {
  event.preventDefault();
  document.getElementById('main').focus();
});
render();
