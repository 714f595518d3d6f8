// One order: what was ordered and priced, its timeline, shipments with
// tracking, and the decision trace laid out for a person.

import { h, table, facts, badge } from '../dom.js';
import { api } from '../api.js';
import { href } from '../router.js';
import { money, number, time, humanise } from '../format.js';
import { heading, problemBox, confirmAction, announce, actionButton } from '../ui.js';
import { statusBadge } from './orders.js';
import { traceSection } from './trace.js';
import { shipForm, trackForm } from './shipping.js';

/** Simple transitions the console offers (shipping needs a form of its own). */
const ACTIONS = {
  approve: { path: 'approve', label: 'Approve', who: 'admin', primary: true },
  reject: { path: 'reject', label: 'Reject', who: 'admin', danger: true },
  allocate: { path: 'allocate', label: 'Allocate', who: 'admin' },
  confirm_receipt: { path: 'receipt', label: 'Confirm receipt', who: 'party' },
  complete: { path: 'complete', label: 'Complete', who: 'admin' },
  cancel: { path: 'cancel', label: 'Cancel order', who: 'party', danger: true },
};

function actionBar(view, ctx) {
  const dealer = ctx.me.role === 'dealer';
  const buttons = view.allowed_actions
    .filter((a) => ACTIONS[a] && (!dealer || ACTIONS[a].who === 'party'))
    .map((a) => {
      const spec = ACTIONS[a];
      return actionButton(spec.label, { class: spec.danger ? 'danger' : spec.primary ? 'primary' : 'secondary', testid: `order-${a}` }, async () => {
        const answer = await confirmAction({
          title: `${spec.label}: ${view.id}?`,
          message: `The order is ${humanise(view.status).toLowerCase()}; this is recorded on its timeline with your note.`,
          confirmLabel: spec.label, note: true, danger: spec.danger,
        });
        if (!answer) return;
        try {
          await api(`/orders/${encodeURIComponent(view.id)}/${spec.path}`, { method: 'POST', body: { note: answer.note } });
          announce(`${view.id}: ${spec.label.toLowerCase()} done.`);
          ctx.refresh();
        } catch (err) {
          bar.append(problemBox(err));
        }
      });
    });
  const bar = h('div', { class: 'actions', testid: 'order-actions' }, buttons);
  return buttons.length ? bar : null;
}

function timeline(events) {
  return h('ol', { class: 'timeline', testid: 'timeline' }, events.map((e) =>
    h('li', { testid: 'timeline-event' },
      h('div', null, time(e.at), ' ', h('strong', null, humanise(e.action))),
      h('div', null, e.from_status ? `${humanise(e.from_status)} → ${humanise(e.to_status)}` : humanise(e.to_status),
        h('span', { class: 'muted' }, ` · ${e.actor}`)),
      e.note ? h('div', { class: 'note' }, e.note) : null)));
}

function shipments(view, ctx) {
  const list = view.shipments;
  const staff = ctx.me.role !== 'dealer';
  if (!list.length) return h('p', { class: 'muted', testid: 'shipments' }, 'Not shipped yet.');
  return h('div', { testid: 'shipments' }, list.map((s) => h('article', { class: 'card', testid: 'shipment' },
    h('h3', null, `${s.id} from ${s.warehouse_id}`),
    facts([
      ['Carrier', s.carrier],
      ['Tracking number', h('code', { testid: 'tracking-no' }, s.tracking_no)],
      ['Status', humanise(s.status)],
      ['Shipped', h('span', null, time(s.shipped_at), ` by ${s.shipped_by}`)],
      ['Delivered', time(s.delivered_at)],
      ['Goods', s.lines.map((l) => `${l.sku} × ${number(l.quantity)}`).join(', ')],
      s.claim_id ? ['Claim', s.claim_id] : null,
    ]),
    s.tracking.length
      ? h('ol', { class: 'timeline' }, s.tracking.map((t) => h('li', null, time(t.at), ` · ${t.location}: ${t.description}`,
        h('span', { class: 'muted' }, ` (${t.recorded_by})`))))
      : h('p', { class: 'muted' }, 'No tracking events yet.'),
    staff && view.allowed_actions.includes('track') && !s.delivered_at ? trackForm(view, s, ctx) : null)));
}

function reasons(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h('div', { class: 'callout', testid: 'order-reasons' }, h('strong', null, 'Why it is held or refused'),
    h('ul', null, list.map((r) => h('li', null, r.code ? h('code', null, r.code) : null, ' ', r.message ?? JSON.stringify(r)))));
}

export async function order(ctx) {
  const id = ctx.path[1];
  const [view, decision] = await Promise.all([
    api(`/orders/${encodeURIComponent(id)}`),
    api(`/orders/${encodeURIComponent(id)}/decision`).catch((err) => ({ error: err })),
  ]);
  const free = view.lines.filter((l) => l.free);
  const lines = table({
    caption: 'Lines',
    testid: 'order-lines',
    columns: [{ label: '#' }, { label: 'SKU' }, { label: 'Quantity', numeric: true }, { label: 'Unit price', numeric: true },
      { label: 'Discount', numeric: true }, { label: 'Amount', numeric: true }, { label: 'Promotion' }],
    rows: view.lines.map((l) => h('tr', null,
      h('td', null, l.line_no), h('td', null, l.sku, l.free ? badge('free goods', 'ok') : null),
      h('td', { class: 'num' }, number(l.quantity)), h('td', { class: 'num' }, money(l.unit_price)),
      h('td', { class: 'num' }, l.discount ? `−${money(l.discount)}` : '—'), h('td', { class: 'num' }, money(l.amount)),
      h('td', null, l.promotion_id || '—'))),
  });
  const allocations = table({
    caption: 'Stock reserved',
    testid: 'order-allocations',
    columns: [{ label: 'Warehouse' }, { label: 'SKU' }, { label: 'Reserved', numeric: true },
      { label: 'Shipped', numeric: true }, { label: 'Released', numeric: true }],
    rows: view.allocations.map((a) => h('tr', null, h('td', null, a.warehouse_id), h('td', null, a.sku),
      h('td', { class: 'num' }, number(a.quantity)), h('td', { class: 'num' }, number(a.shipped)),
      h('td', { class: 'num' }, number(a.released)))),
    empty: 'No stock reserved.',
  });
  return h('section', { testid: 'order-detail', 'data-order-id': view.id },
    h('p', null, h('a', { href: href('orders') }, '← Orders')),
    heading(`Order ${view.id}`, statusBadge(view.status)),
    actionBar(view, ctx),
    h('div', { class: 'columns' },
      h('div', null,
        facts([
          ['Dealer', view.dealer_id],
          ['Region', view.region],
          ['Ship to', view.ship_to],
          ['Type', `${humanise(view.order_type)}, ${view.urgency}`],
          ['Placed', h('span', null, time(view.placed_at), ` by ${view.placed_by}`)],
          ['Subtotal', money(view.subtotal)],
          ['Discounts', view.discount ? `−${money(view.discount)}` : '—'],
          ['Total', h('strong', { testid: 'order-total' }, money(view.total))],
          ['Paid', money(view.paid)],
          ['Priority', number(view.priority)],
        ], { testid: 'order-facts' }),
        reasons(view.reasons),
        lines,
        free.length ? h('p', { class: 'muted' }, `${free.length} free-goods line(s) from promotions.`) : null,
        allocations,
        view.backorders.length
          ? h('p', { class: 'callout' }, 'Backordered: ', view.backorders.map((b) => `${b.sku} × ${number(b.quantity)}`).join(', '))
          : null),
      h('div', null,
        h('h2', null, 'Timeline'),
        timeline(view.timeline),
        h('h2', null, 'Shipments'),
        shipments(view, ctx),
        ctx.me.role !== 'dealer' && view.allowed_actions.includes('ship') ? shipForm(view, ctx) : null)),
    decision.error ? [h('h2', null, 'Decision trace'), problemBox(decision.error)] : traceSection(decision.decision, ctx));
}
