// Policy deployments: what each region runs now, the history of rollouts,
// one deployment with its shadow-run differences, and rollback (HQ or the
// region's admin; the API refuses anyone else).

import { h, table, badge, facts, field } from '../dom.js';
import { api, query } from '../api.js';
import { href, go } from '../router.js';
import { money, number, time, humanise, shortHash } from '../format.js';
import { heading, problemBox, confirmAction, announce, actionButton, regionSelect, regionOf } from '../ui.js';

const STATE_KIND = {
  active: 'ok', superseded: 'muted', rolled_back: 'warn', auto_rolled_back: 'bad', promoted: 'info', stopped: 'muted',
};

function pluginText(p) {
  return p ? `${p.name}@${p.version}` : 'removed (slot emptied)';
}

async function rollback(ctx, region, slot, where) {
  const answer = await confirmAction({
    title: slot ? `Roll back ${slot} in ${region}?` : `Roll back ${region}'s latest rollout?`,
    message: slot
      ? `The ${slot} slot returns to the deployment this one replaced, or to the brand directory. Orders placed from now on use it.`
      : 'Every slot the latest rollout changed returns to what it replaced. Orders placed from now on use it.',
    confirmLabel: 'Roll back',
    danger: true,
  });
  if (!answer) return;
  try {
    const result = await api(`/regions/${encodeURIComponent(region)}/rollback`, { method: 'POST', body: slot ? { slot } : {} });
    announce(`Rolled back ${result.rolled_back.map((d) => `${d.slot} (${d.id})`).join(', ')} in ${region}.`);
    ctx.refresh();
  } catch (err) {
    where.append(problemBox(err));
  }
}

function activeTable(ctx, policy, regionChosen) {
  const rows = [];
  for (const r of policy.regions) {
    for (const slot of r.slots) {
      if (!regionChosen && slot.source !== 'deployment' && !slot.canary && !slot.shadow) continue;
      const cell = h('td', { class: 'row-actions' });
      if (slot.source === 'deployment') {
        cell.append(actionButton('Roll back', { class: 'danger', testid: 'rollback-slot', 'data-slot': slot.slot },
          () => rollback(ctx, r.region, slot.slot, cell)));
      }
      rows.push(h('tr', { testid: 'active-row', 'data-region': r.region, 'data-slot': slot.slot },
        h('td', null, r.region),
        h('th', { scope: 'row' }, h('code', null, slot.slot)),
        h('td', { testid: 'active-plugin' }, pluginText(slot.plugin)),
        h('td', { class: 'id' }, slot.deployment_id
          ? h('a', { href: href(['deployments', slot.deployment_id]) }, slot.deployment_id)
          : h('span', { class: 'muted' }, 'brand directory')),
        h('td', null,
          slot.canary ? h('div', null, badge('canary', 'warn'), ' ', pluginText(slot.canary.plugin), ' ',
            slot.canary.deployment_id ? h('a', { href: href(['deployments', slot.canary.deployment_id]) }, slot.canary.deployment_id) : null) : null,
          slot.shadow ? h('div', null, badge('shadow', 'info'), ' ', pluginText(slot.shadow.plugin), ' ',
            slot.shadow.deployment_id ? h('a', { href: href(['deployments', slot.shadow.deployment_id]) }, 'differences') : null) : null,
          !slot.canary && !slot.shadow ? '—' : null),
        cell));
    }
  }
  return table({
    caption: regionChosen ? 'Active versions' : 'Active versions deployed on top of the brand directory (every region)',
    testid: 'active-table',
    columns: [{ label: 'Region' }, { label: 'Slot' }, { label: 'Plugin' }, { label: 'Deployment' }, { label: 'Candidates' }, { label: 'Actions' }],
    rows,
    empty: 'Every region runs the brand directory; nothing deployed.',
  });
}

function historyRow(d) {
  return h('tr', { testid: 'deployment-row', 'data-deployment-id': d.id },
    h('th', { scope: 'row', class: 'id' }, h('a', { href: href(['deployments', d.id]) }, d.id), h('div', { class: 'muted' }, d.rollout_id)),
    h('td', null, d.region), h('td', null, h('code', null, d.slot)),
    h('td', null, humanise(d.mode)),
    h('td', { testid: 'deployment-state' }, badge(humanise(d.state), STATE_KIND[d.state])),
    h('td', null, pluginText(d.plugin)),
    h('td', null, time(d.created_at), h('div', { class: 'muted' }, d.created_by)),
    h('td', null, d.note || '—'),
    h('td', { class: 'id' }, d.previous_id || h('span', { class: 'muted' }, 'brand directory')),
    h('td', null, d.ended_at ? [time(d.ended_at), h('div', { class: 'muted' }, d.ended_by || '')] : '—'));
}

export async function deployments(ctx) {
  const hq = ctx.me.role === 'hq_admin';
  const region = regionOf(ctx, '');
  const slot = ctx.query.get('slot') || '';
  const cursor = ctx.query.get('cursor') || '';
  const [policy, history, picker] = await Promise.all([
    api(`/policy${query({ region })}`),
    api(`/deployments${query({ region, slot, cursor, limit: 25 })}`),
    hq ? regionSelect(region, { all: true }) : null,
  ]);
  if (picker) picker.addEventListener('change', () => go('deployments', { region: picker.value }));
  const regionActions = h('div', { class: 'actions' });
  if (region) {
    regionActions.append(actionButton(`Roll back ${region}'s latest rollout`, { class: 'danger', testid: 'rollback-region' },
      () => rollback(ctx, region, null, regionActions)));
  }
  return h('section', null,
    heading(region ? `Deployments · ${region}` : 'Deployments', picker ? field('Region', picker) : null),
    regionActions,
    activeTable(ctx, policy, Boolean(region)),
    h('h2', null, 'History'),
    table({
      caption: `Newest first${slot ? `, slot ${slot}` : ''}`,
      testid: 'history-table',
      columns: [{ label: 'Deployment' }, { label: 'Region' }, { label: 'Slot' }, { label: 'Mode' }, { label: 'State' },
        { label: 'Plugin' }, { label: 'Deployed' }, { label: 'Note' }, { label: 'Replaced' }, { label: 'Ended' }],
      rows: history.deployments.map(historyRow),
      empty: 'No deployments yet.',
    }),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      cursor ? h('a', { class: 'button secondary', href: href('deployments', { region: hq ? region : '', slot }) }, '← Newest') : null,
      history.next_cursor
        ? h('a', { class: 'button secondary', href: href('deployments', { region: hq ? region : '', slot, cursor: history.next_cursor }) }, 'Older →')
        : null));
}

function shadowSection(summary) {
  return h('section', { testid: 'shadow-summary' },
    h('h2', null, 'Shadow-run differences'),
    facts([
      ['Orders compared', number(summary.orders_compared)],
      ['Orders that would change', number(summary.orders_differing)],
      ['Verdict changed', number(summary.verdict_changed)],
      ['Prices changed', number(summary.price_changed)],
      ['Promotions changed', number(summary.promotions_changed)],
      ['Routing changed', number(summary.routing_changed)],
      ['Revenue impact', money(summary.revenue_impact_fen)],
    ]),
    table({
      caption: `Differing orders (first ${summary.differences.length})`,
      columns: [{ label: 'Order' }, { label: 'Verdict' }, { label: 'Prices' }, { label: 'Routing' }, { label: 'Total', numeric: true }],
      rows: summary.differences.map((d) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: href(['orders', d.order_id]) }, d.order_id)),
        h('td', null, d.verdict ? `${humanise(d.verdict.from)} → ${humanise(d.verdict.to)}` : 'same'),
        h('td', null, d.prices.length
          ? h('ul', { class: 'plain compact' }, d.prices.map((p) => h('li', null,
            `line ${p.line_no} ${p.sku}: ${p.from ? money(p.from.unit_price) : '—'} → ${p.to ? money(p.to.unit_price) : '—'}`)))
          : 'same'),
        h('td', null, d.routing.length ? d.routing.map((r) => r.sku).join(', ') : 'same'),
        h('td', { class: 'num' }, d.total.from === d.total.to ? money(d.total.to) : `${money(d.total.from)} → ${money(d.total.to)}`))),
      empty: 'No differences so far.',
    }));
}

export async function deployment(ctx) {
  const id = ctx.path[1];
  const d = await api(`/deployments/${encodeURIComponent(id)}`);
  let shadow = null;
  if (d.mode === 'shadow') {
    shadow = await api(`/deployments/${encodeURIComponent(id)}/shadow`).then(shadowSection, problemBox);
  }
  const actions = h('div', { class: 'actions' });
  if (d.state === 'active' && d.mode === 'canary') {
    actions.append(actionButton('Promote to the whole region', { class: 'primary', testid: 'promote' }, async () => {
      const ok = await confirmAction({ title: `Promote ${d.id}?`, message: `Every dealer of ${d.region} gets ${pluginText(d.plugin)} in ${d.slot}.`, confirmLabel: 'Promote' });
      if (!ok) return;
      try { await api(`/deployments/${encodeURIComponent(id)}/promote`, { method: 'POST' }); ctx.refresh(); } catch (err) { actions.append(problemBox(err)); }
    }));
  }
  if (d.state === 'active' && (d.mode === 'canary' || d.mode === 'shadow')) {
    actions.append(actionButton(`Stop the ${d.mode}`, { class: 'danger', testid: 'stop' }, async () => {
      const ok = await confirmAction({ title: `Stop ${d.id}?`, message: 'The candidate stops running; the live slot is unchanged.', confirmLabel: 'Stop', danger: true });
      if (!ok) return;
      try { await api(`/deployments/${encodeURIComponent(id)}/stop`, { method: 'POST' }); ctx.refresh(); } catch (err) { actions.append(problemBox(err)); }
    }));
  }
  return h('section', { testid: 'deployment-detail' },
    h('p', null, h('a', { href: href('deployments', { region: d.region }) }, `← Deployments of ${d.region}`)),
    heading(`Deployment ${d.id}`, badge(humanise(d.state), STATE_KIND[d.state])),
    actions,
    facts([
      ['Rollout', d.rollout_id], ['Region', d.region], ['Slot', h('code', null, d.slot)], ['Mode', humanise(d.mode)],
      ['Plugin', pluginText(d.plugin)], ['Component', d.plugin ? h('code', { title: d.plugin.hash }, shortHash(d.plugin.hash)) : '—'],
      ['Deployed', h('span', null, time(d.created_at), ` by ${d.created_by}`)], ['Note', d.note || '—'],
      ['Replaced', d.previous_id ? h('a', { href: href(['deployments', d.previous_id]) }, d.previous_id) : 'brand directory'],
      ['Ended', d.ended_at ? h('span', null, time(d.ended_at), ` by ${d.ended_by || '—'}`) : '—'],
      d.audience ? ['Audience', h('code', null, JSON.stringify(d.audience))] : null,
    ]),
    h('details', null, h('summary', null, 'Configuration'), h('pre', null, JSON.stringify(d.config, null, 2))),
    shadow);
}
