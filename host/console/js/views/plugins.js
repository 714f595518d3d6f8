// A region's plugin set: each slot's plugin, version, configuration and
// health, and the promotions its configuration puts in force now.

import { h, table, badge, facts } from '../dom.js';
import { api } from '../api.js';
import { go, href } from '../router.js';
import { number, dateTime, humanise, shortHash, money, percentBp } from '../format.js';
import { heading, regionSelect, regionOf } from '../ui.js';

function healthCell(health) {
  if (!health) return badge('no calls yet', 'muted');
  if (health.quarantined) return badge(`quarantined${health.last_fault ? `: ${health.last_fault}` : ''}`, 'bad');
  if (health.faults) return badge(`${health.faults} faults / ${number(health.calls)} calls`, 'warn');
  return badge(`OK · ${number(health.calls)} calls`, 'ok');
}

function kindText(kind) {
  if (!kind || typeof kind !== 'object') return '—';
  switch (kind.type) {
    case 'spend_threshold': return `Spend ≥ ${money(kind.threshold)} → ${money(kind.off)} off${kind.repeat ? ' (repeats)' : ''}`;
    case 'buy_n_get_m': return `Buy ${kind.buy} get ${kind.get} free`;
    case 'percent_off': return `${percentBp(kind.percent_bp)} off`;
    default: return `${humanise(kind.type)} ${JSON.stringify(Object.fromEntries(Object.entries(kind).filter(([k]) => k !== 'type')))}`;
  }
}

/** Promotions configured as data in the region's promotion slots. */
function promotionsOf(slots, now) {
  const found = [];
  for (const slot of slots.filter((s) => s.slot.startsWith('promotions/'))) {
    for (const p of Array.isArray(slot.config?.promotions) ? slot.config.promotions : []) {
      const started = p.starts_at === undefined || p.starts_at === null || p.starts_at <= now;
      const ended = p.ends_at !== undefined && p.ends_at !== null && p.ends_at <= now;
      found.push({ slot: slot.slot, p, state: ended ? 'ended' : started ? 'in force' : 'scheduled' });
    }
  }
  const order = { 'in force': 0, scheduled: 1, ended: 2 };
  return found.sort((a, b) => order[a.state] - order[b.state]);
}

export async function plugins(ctx) {
  const region = regionOf(ctx, 'gd');
  const slots = await api(`/regions/${encodeURIComponent(region)}/plugins`);
  const picker = ctx.me.role === 'hq_admin' ? await regionSelect(region) : null;
  if (picker) picker.addEventListener('change', () => go('plugins', { region: picker.value }));
  const now = Date.now();
  const promotions = promotionsOf(slots, now);
  const otherPromotionSlots = slots.filter((s) => s.slot.startsWith('promotions/') && !Array.isArray(s.config?.promotions));

  return h('section', null,
    heading(`Plugins & promotions · ${region}`, picker ? h('label', { class: 'inline' }, 'Region ', picker) : null),
    h('p', null, h('a', { href: href('deployments', { region }) }, 'Deployment history and rollback for this region →')),
    table({
      caption: 'Plugin set (in the order an order passes through it)',
      testid: 'plugins-table',
      columns: [{ label: 'Slot' }, { label: 'Plugin' }, { label: 'Kind' }, { label: 'Component' }, { label: 'Health' }, { label: 'Configuration' }],
      rows: slots.map((s) => h('tr', { testid: 'plugin-row', 'data-slot': s.slot },
        h('th', { scope: 'row' }, h('code', null, s.slot)),
        h('td', null, h('strong', null, s.plugin.name), ` ${s.plugin.version}`),
        h('td', null, humanise(s.plugin.kind), h('div', { class: 'muted' }, `WIT ${s.plugin.wit_version}`)),
        h('td', null, h('code', { title: s.plugin.hash }, shortHash(s.plugin.hash))),
        h('td', null, healthCell(s.health)),
        h('td', null, h('details', null, h('summary', null, 'Show'), h('pre', null, JSON.stringify(s.config, null, 2)))))),
    }),
    h('h2', null, 'Promotions'),
    table({
      caption: `Promotions configured for ${region} (as of ${dateTime(now)})`,
      testid: 'promotions-table',
      columns: [{ label: 'Promotion' }, { label: 'State' }, { label: 'What it gives' }, { label: 'Applies to' }, { label: 'Window' }, { label: 'Group' }],
      rows: promotions.map(({ slot, p, state }) => h('tr', { testid: 'promotion-row', 'data-state': state },
        h('th', { scope: 'row' }, p.id || '—', h('div', { class: 'muted' }, slot)),
        h('td', null, badge(state, state === 'in force' ? 'ok' : state === 'scheduled' ? 'info' : 'muted')),
        h('td', null, kindText(p.kind)),
        h('td', null, [p.categories?.length ? `categories: ${p.categories.join(', ')}` : null,
          p.skus?.length ? `SKUs: ${p.skus.join(', ')}` : null].filter(Boolean).join('; ') || 'everything'),
        h('td', null, p.starts_at ? dateTime(p.starts_at) : 'always', ' – ', p.ends_at ? dateTime(p.ends_at) : 'open-ended'),
        h('td', null, p.group || '—'))),
      empty: 'No promotions configured.',
    }),
    otherPromotionSlots.length
      ? h('div', null, h('p', null, 'Promotion plugins with their own configuration shape:'),
        otherPromotionSlots.map((s) => h('details', null, h('summary', null, `${s.slot}: ${s.plugin.name}@${s.plugin.version}`),
          h('pre', null, JSON.stringify(s.config, null, 2)))))
      : null,
    facts([['Slots', number(slots.length)], ['Calls so far', number(slots.reduce((a, s) => a + (s.health?.calls || 0), 0))]]));
}
