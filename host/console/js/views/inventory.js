// Stock of a region per warehouse and SKU with its flags: below the safety
// share of target, slow-moving (too many days of cover).

import { h, table, badge, field, select } from '../dom.js';
import { api, query } from '../api.js';
import { go } from '../router.js';
import { number, humanise } from '../format.js';
import { heading, regionSelect, regionOf } from '../ui.js';

const PAGE = 100;
const LEVELS = [['', 'Every level'], ['region', 'Regional warehouses'], ['dealer', 'Dealer stock'], ['store', 'Store stock'], ['hq', 'HQ warehouses']];
const FLAGS = [['', 'All rows'], ['below_safety', 'Below safety stock'], ['slow_moving', 'Slow-moving'], ['flagged', 'Either flag']];

export async function inventory(ctx) {
  const region = regionOf(ctx, 'gd');
  const level = ctx.query.get('level') || '';
  const sku = (ctx.query.get('sku') || '').trim().toUpperCase();
  const flag = ctx.query.get('flag') || '';
  const pageNo = Math.max(1, Number(ctx.query.get('page')) || 1);
  const all = await api(`/inventory${query({ region, level, sku })}`);
  const rows = all.filter((r) => (flag === 'below_safety' ? r.below_safety
    : flag === 'slow_moving' ? r.slow_moving
      : flag === 'flagged' ? r.below_safety || r.slow_moving : true));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const shown = rows.slice((pageNo - 1) * PAGE, pageNo * PAGE);

  const regionPicker = ctx.me.role === 'hq_admin' ? await regionSelect(region) : null;
  const levelPicker = select('level', LEVELS, level);
  const flagPicker = select('flag', FLAGS, flag, { testid: 'flag-select' });
  const skuInput = h('input', { name: 'sku', value: sku, size: 10, placeholder: 'e.g. BJ-001' });
  const params = () => ({ region: regionPicker?.value, level: levelPicker.value, sku: skuInput.value.trim().toUpperCase(), flag: flagPicker.value });
  const form = h('form', {
    class: 'filters',
    on: { submit: (e) => { e.preventDefault(); go('inventory', params()); } },
  },
  regionPicker ? field('Region', regionPicker) : null,
  field('Level', levelPicker), field('SKU', skuInput), field('Show', flagPicker),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));

  const below = all.filter((r) => r.below_safety).length;
  const slow = all.filter((r) => r.slow_moving).length;
  const pager = pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Pages' },
    pageNo > 1 ? h('button', { type: 'button', class: 'secondary', on: { click: () => go('inventory', { ...params(), page: pageNo - 1 }) } }, '← Previous') : null,
    h('span', { class: 'muted' }, `Page ${pageNo} of ${pages}`),
    pageNo < pages ? h('button', { type: 'button', class: 'secondary', on: { click: () => go('inventory', { ...params(), page: pageNo + 1 }) } }, 'Next →') : null)
    : null;

  return h('section', null,
    heading(`Inventory · ${region}`),
    h('p', { class: 'muted' }, `${number(all.length)} stock rows; `, badge(`${below} below safety`, below ? 'bad' : 'ok'), ' ',
      badge(`${slow} slow-moving`, slow ? 'warn' : 'ok'), '. Safety: available under 30% of target. Slow-moving: over 60 days of cover.'),
    form,
    table({
      caption: `Stock per warehouse and SKU (${number(rows.length)} shown by the filter)`,
      testid: 'inventory-table',
      columns: [{ label: 'Warehouse' }, { label: 'Level' }, { label: 'SKU' }, { label: 'On hand', numeric: true },
        { label: 'Reserved', numeric: true }, { label: 'Available', numeric: true }, { label: 'Target', numeric: true },
        { label: 'Days of cover', numeric: true }, { label: 'Flags' }],
      rows: shown.map((r) => h('tr', { testid: 'inventory-row' },
        h('th', { scope: 'row' }, r.warehouse_id, h('div', { class: 'muted' }, r.warehouse_name)),
        h('td', null, humanise(r.level)), h('td', null, r.sku),
        h('td', { class: 'num' }, number(r.on_hand)), h('td', { class: 'num' }, number(r.reserved)),
        h('td', { class: 'num' }, number(r.available)), h('td', { class: 'num' }, number(r.target)),
        h('td', { class: 'num' }, r.days_of_cover === null ? '—' : r.days_of_cover.toFixed(1)),
        h('td', null, r.below_safety ? badge('below safety', 'bad') : null, ' ', r.slow_moving ? badge('slow-moving', 'warn') : null))),
      empty: 'No stock rows match.',
    }),
    pager);
}
