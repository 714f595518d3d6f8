// HQ's alerts (safety stock, slow-moving, shortfall, production, policy
// rollbacks) and the transfer plans awaiting approval: drafted by the
// scanner for a shortfall, or planned by a person.

import { h, table, badge, field, select } from '../dom.js';
import { api, query } from '../api.js';
import { href, go } from '../router.js';
import { money, number, time, humanise } from '../format.js';
import { heading, problemBox, confirmAction, announce, actionButton, regionSelect } from '../ui.js';

const KINDS = [['', 'All kinds'], ['safety_stock', 'Safety stock'], ['slow_moving', 'Slow-moving'],
  ['shortfall_transfer', 'Shortfall transfer'], ['production', 'Production'], ['policy_rollback', 'Policy rollback']];

const TRANSFER_VIEWS = [['awaiting', 'Awaiting approval'], ['approved', 'Approved'], ['shipped', 'Shipped'],
  ['received', 'Received'], ['cancelled', 'Cancelled']];

function statusKind(status) {
  return { draft: 'warn', planned: 'warn', approved: 'info', shipped: 'info', received: 'ok', cancelled: 'muted', open: 'bad', resolved: 'ok' }[status];
}

async function transfersFor(view, region) {
  const statuses = view === 'awaiting' ? ['draft', 'planned'] : [view];
  const pages = await Promise.all(statuses.map((status) => api(`/transfers${query({ status, region, limit: 200 })}`)));
  return pages.flatMap((p) => p.transfers).sort((a, b) => b.created_at - a.created_at);
}

function transferRow(t, ctx) {
  const statusCell = h('td', { testid: 'transfer-status' }, badge(humanise(t.status), statusKind(t.status)));
  const actions = h('td', { class: 'row-actions' });
  const row = h('tr', { testid: 'transfer-row', 'data-transfer-id': t.id },
    h('th', { scope: 'row', class: 'id' }, t.id),
    h('td', null, h('strong', null, `${t.from_region} → ${t.to_region}`), h('div', { class: 'muted' }, t.route)),
    h('td', null, h('ul', { class: 'plain compact' }, t.lines.map((l) => h('li', { class: 'nowrap' }, `${l.sku} × ${number(l.quantity)}`)))),
    h('td', { class: 'num' }, money(t.cost_estimate)),
    h('td', { class: 'reason' }, t.reason),
    h('td', null, time(t.created_at), h('div', { class: 'muted' }, t.created_by)),
    statusCell,
    actions);
  const act = (action, label, kind) => actionButton(label, { class: kind, testid: `${action}-transfer` }, async () => {
    const answer = await confirmAction({
      title: `${label} transfer ${t.id}?`,
      message: action === 'approve'
        ? `This reserves ${t.lines.map((l) => `${number(l.quantity)} × ${l.sku}`).join(', ')} at ${t.from_warehouse} for ${t.to_region} (estimated ${money(t.cost_estimate)}).`
        : 'The plan is dropped; nothing was reserved for it yet.',
      confirmLabel: label,
      note: true,
      danger: action === 'cancel',
    });
    if (!answer) return;
    try {
      const updated = await api(`/transfers/${encodeURIComponent(t.id)}/${action}`, { method: 'POST', body: { note: answer.note } });
      statusCell.replaceChildren(badge(humanise(updated.status), statusKind(updated.status)));
      actions.replaceChildren(h('span', { class: 'muted' }, `${humanise(updated.status)} by you`));
      announce(`Transfer ${t.id} is now ${humanise(updated.status).toLowerCase()}.`);
    } catch (err) {
      actions.append(problemBox(err));
    }
  });
  if (ctx.me.role === 'hq_admin' && t.allowed_actions.includes('approve')) actions.append(act('approve', 'Approve', 'primary'));
  if (t.allowed_actions.includes('cancel') && ['draft', 'planned'].includes(t.status)) actions.append(act('cancel', 'Cancel', 'secondary'));
  return row;
}

function alertRow(a, ctx) {
  const actions = h('td', { class: 'row-actions' });
  if (a.status === 'open') {
    actions.append(actionButton('Resolve', { class: 'secondary', testid: 'resolve-alert' }, async () => {
      const answer = await confirmAction({
        title: `Resolve alert ${a.id}?`, message: a.message, confirmLabel: 'Resolve', note: true, noteRequired: true,
      });
      if (!answer) return;
      try {
        await api(`/alerts/${encodeURIComponent(a.id)}/resolve`, { method: 'POST', body: { note: answer.note } });
        announce(`Alert ${a.id} resolved.`);
        ctx.refresh();
      } catch (err) {
        actions.append(problemBox(err));
      }
    }));
  } else {
    actions.append(h('span', { class: 'muted' }, a.resolution_note || ''));
  }
  return h('tr', { testid: 'alert-row', 'data-alert-id': a.id },
    h('td', null, badge(humanise(a.kind), a.kind === 'safety_stock' || a.kind === 'policy_rollback' ? 'bad' : 'warn')),
    h('td', null, a.region),
    h('td', null, a.sku || '—', a.warehouse_id ? h('div', { class: 'muted' }, a.warehouse_id) : null),
    h('td', { class: 'reason' }, a.message),
    h('td', { class: 'id' }, a.transfer_id || '—'),
    h('td', null, time(a.created_at)),
    h('td', null, badge(humanise(a.status), statusKind(a.status))),
    actions);
}

export async function alerts(ctx) {
  const region = ctx.query.get('region') || '';
  const kind = ctx.query.get('kind') || '';
  const status = ctx.query.get('status') || 'open';
  const transferView = ctx.query.get('transfers') || 'awaiting';
  const [alertPage, transfers, regionPicker] = await Promise.all([
    api(`/alerts${query({ region, kind, status, limit: 200 })}`),
    transfersFor(transferView, region),
    regionSelect(region, { all: true }),
  ]);

  const kindPicker = select('kind', KINDS, kind);
  const statusPicker = select('status', [['open', 'Open'], ['resolved', 'Resolved']], status);
  const transferPicker = select('transfers', TRANSFER_VIEWS, transferView, { testid: 'transfer-view' });
  const filters = h('form', {
    class: 'filters', on: {
      submit: (e) => {
        e.preventDefault();
        go('alerts', { region: regionPicker.value, kind: kindPicker.value, status: statusPicker.value, transfers: transferPicker.value });
      },
    },
  }, field('Region', regionPicker), field('Alert kind', kindPicker), field('Alert status', statusPicker),
  field('Transfers', transferPicker), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));

  const scan = actionButton('Scan stock now', { class: 'secondary', testid: 'scan-now' }, async () => {
    try {
      const summary = await api('/alerts/scan', { method: 'POST', body: {} });
      const raised = Object.values(summary.raised || {}).reduce((a, b) => a + b, 0);
      announce(`Scan done: ${raised} new alert(s), ${(summary.transfers_drafted || []).length} transfer(s) drafted.`);
      ctx.refresh();
    } catch (err) {
      filters.after(problemBox(err));
    }
  });

  return h('section', null,
    heading('Alerts & transfers', ctx.me.role === 'hq_admin' ? scan : null),
    filters,
    h('h2', null, 'Transfer plans'),
    table({
      caption: `${TRANSFER_VIEWS.find(([v]) => v === transferView)?.[1] ?? ''} transfers${region ? ` into or out of ${region}` : ''}`,
      testid: 'transfers-table',
      columns: [{ label: 'Transfer' }, { label: 'Regions and route' }, { label: 'Lines' },
        { label: 'Cost estimate', numeric: true }, { label: 'Reason' }, { label: 'Drafted' }, { label: 'Status' }, { label: 'Actions' }],
      rows: transfers.map((t) => transferRow(t, ctx)),
      empty: 'No transfers here.',
    }),
    h('h2', null, 'Alerts'),
    table({
      caption: `${humanise(status)} alerts${alertPage.next_cursor ? ' (newest 200)' : ''}`,
      testid: 'alerts-table',
      columns: [{ label: 'Kind' }, { label: 'Region' }, { label: 'SKU' }, { label: 'Message' }, { label: 'Transfer' },
        { label: 'Raised' }, { label: 'Status' }, { label: 'Actions' }],
      rows: alertPage.alerts.map((a) => alertRow(a, ctx)),
      empty: 'No alerts match.',
    }),
    h('p', null, h('a', { href: href('inventory', { region, flag: 'below_safety' }) }, 'See stock below safety level')));
}
