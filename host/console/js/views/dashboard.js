// HQ's national dashboard: per regional center the orders, GMV, stock
// against target, open alerts, and the plugin versions it runs with their
// health (GET /v1/dashboard, /v1/policy and /v1/plugins/health).

import { h, table, badge } from '../dom.js';
import { api } from '../api.js';
import { href } from '../router.js';
import { money, number, percentBp, dateTime } from '../format.js';
import { heading } from '../ui.js';
import { barChart } from '../chart.js';

/** The safety-stock line: available below 30% of target raises an alert. */
const SAFETY_BP = 3000;

function healthOf(slots, health) {
  let calls = 0;
  let faults = 0;
  const quarantined = [];
  for (const slot of slots) {
    const found = health.find((hh) => hh.plugin.hash === slot.plugin.hash);
    if (!found) continue;
    calls += found.calls;
    faults += found.faults;
    if (found.quarantined) quarantined.push(`${found.plugin.name}@${found.plugin.version}`);
  }
  return { calls, faults, quarantined };
}

function healthCell(summary) {
  if (summary.quarantined.length) {
    return badge(`Quarantined: ${summary.quarantined.join(', ')}`, 'bad');
  }
  if (summary.faults > 0) {
    return badge(`${summary.faults} fault${summary.faults === 1 ? '' : 's'} / ${number(summary.calls)} calls`, 'warn');
  }
  return badge(summary.calls ? `OK · ${number(summary.calls)} calls` : 'OK · no calls yet', 'ok');
}

function versions(slots) {
  return h('ul', { class: 'plain compact' }, slots.map((slot) =>
    h('li', null, h('span', { class: 'muted' }, `${slot.slot}: `), `${slot.plugin.name}@${slot.plugin.version}`,
      slot.source === 'deployment' ? badge('deployed', 'info') : null,
      slot.canary ? badge('canary', 'warn') : null,
      slot.shadow ? badge('shadow', 'info') : null)));
}

export async function dashboard() {
  const [board, policy, health] = await Promise.all([
    api('/dashboard'),
    api('/policy'),
    api('/plugins/health'),
  ]);
  const slotsByRegion = new Map(policy.regions.map((r) => [r.region, r.slots]));
  const totals = board.regions.reduce((t, r) => ({
    orders: t.orders + r.orders.total,
    today: t.today + r.orders_today.total,
    gmv: t.gmv + r.gmv.all_time,
    gmvToday: t.gmvToday + r.gmv.today,
    alerts: t.alerts + r.open_alerts_total,
  }), { orders: 0, today: 0, gmv: 0, gmvToday: 0, alerts: 0 });

  const rows = board.regions.map((r) => {
    const slots = slotsByRegion.get(r.region) || [];
    const share = r.stock.share_of_target_bp;
    return h('tr', { testid: 'dashboard-row', 'data-region': r.region },
      h('th', { scope: 'row' }, h('a', { href: href('orders', { region: r.region }) }, r.name), h('div', { class: 'muted' }, r.region)),
      h('td', { class: 'num' }, number(r.orders.total), h('div', { class: 'muted' }, `${number(r.orders_today.total)} today`)),
      h('td', { class: 'num' }, money(r.gmv.all_time), h('div', { class: 'muted' }, `${money(r.gmv.today)} today`)),
      h('td', { class: 'num' }, number(r.stock.available), h('div', { class: 'muted' }, `of ${number(r.stock.target)} target`)),
      h('td', { class: 'num' }, share === null ? '—' : badge(percentBp(share), share < SAFETY_BP ? 'bad' : 'ok')),
      h('td', { class: 'num' }, r.open_alerts_total
        ? h('a', { href: href('alerts', { region: r.region }) }, number(r.open_alerts_total))
        : '0',
      Object.keys(r.open_alerts).length
        ? h('div', { class: 'muted' }, Object.entries(r.open_alerts).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', '))
        : null),
      h('td', null, versions(slots)),
      h('td', null, healthCell(healthOf(slots, health))));
  });

  const gmvChart = barChart({
    title: 'GMV by region (all time, excluding cancelled and rejected orders)',
    testid: 'chart-gmv',
    items: board.regions.map((r) => ({ key: r.region, label: r.name, value: r.gmv.all_time, display: money(r.gmv.all_time) })),
  });
  const stockChart = barChart({
    title: 'Available stock as a share of target',
    testid: 'chart-stock',
    reference: { value: SAFETY_BP, label: 'safety stock at 30%' },
    items: board.regions.map((r) => ({
      key: r.region, label: r.name, value: r.stock.share_of_target_bp ?? 0,
      display: percentBp(r.stock.share_of_target_bp), warn: (r.stock.share_of_target_bp ?? 0) < SAFETY_BP,
    })),
  });

  return h('section', null,
    heading('National dashboard', h('p', { class: 'muted' }, `As of ${dateTime(board.generated_at)}; “today” from ${dateTime(board.today_from)}.`)),
    h('div', { class: 'kpis' },
      kpi('Regions', number(board.regions.length), 'kpi-regions'),
      kpi('Orders', number(totals.orders), 'kpi-orders', `${number(totals.today)} today`),
      kpi('GMV', money(totals.gmv), 'kpi-gmv', `${money(totals.gmvToday)} today`),
      kpi('Open alerts', number(totals.alerts), 'kpi-alerts')),
    h('div', { class: 'charts' }, gmvChart, stockChart),
    table({
      caption: 'Regional centers',
      testid: 'dashboard-table',
      columns: [
        { label: 'Region' }, { label: 'Orders', numeric: true }, { label: 'GMV', numeric: true },
        { label: 'Stock available', numeric: true }, { label: 'Of target', numeric: true },
        { label: 'Open alerts', numeric: true }, { label: 'Plugin versions' }, { label: 'Plugin health' },
      ],
      rows,
    }));
}

function kpi(label, value, testid, sub) {
  return h('div', { class: 'kpi', testid }, h('div', { class: 'kpi-label' }, label), h('div', { class: 'kpi-value' }, value),
    sub ? h('div', { class: 'muted' }, sub) : null);
}
