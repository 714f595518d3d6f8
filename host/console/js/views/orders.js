// Orders the caller may see (HQ all, a region admin theirs, a dealer its
// own), filtered and paged with the API's cursor.

import { h, table, badge, field, select } from '../dom.js';
import { api, query } from '../api.js';
import { href, go } from '../router.js';
import { money, time, humanise, dayStart, dayInput } from '../format.js';
import { heading, regionSelect } from '../ui.js';

const PAGE = 25;

export const STATUSES = ['pending_review', 'approved', 'allocated', 'partially_shipped', 'shipped', 'in_transit',
  'delivered', 'completed', 'cancelled', 'rejected'];

export function statusBadge(status) {
  const kind = {
    pending_review: 'warn', rejected: 'bad', cancelled: 'muted', completed: 'ok', delivered: 'ok',
  }[status] || 'info';
  return badge(humanise(status), kind, { testid: 'order-status' });
}

export async function orders(ctx) {
  const q = ctx.query;
  const hq = ctx.me.role === 'hq_admin';
  const dealer = ctx.me.role === 'dealer';
  const filter = {
    status: q.get('status') || '',
    region: hq ? q.get('region') || '' : '',
    dealer_id: dealer ? '' : (q.get('dealer_id') || '').trim().toUpperCase(),
    from: q.get('from') || '',
    to: q.get('to') || '',
  };
  // Earlier pages' cursors, so "Previous" works without the API going backwards.
  const trail = (q.get('trail') || '').split(' ').filter(Boolean);
  const cursor = q.get('cursor') || '';
  const page = await api(`/orders${query({ ...filter, cursor, limit: PAGE })}`);

  const statusPicker = select('status', [['', 'Any status'], ...STATUSES.map((s) => [s, humanise(s)])], filter.status);
  const regionPicker = hq ? await regionSelect(filter.region, { all: true }) : null;
  const dealerInput = dealer ? null : h('input', { name: 'dealer_id', value: filter.dealer_id, placeholder: 'e.g. D-GD-0001', size: 14 });
  const fromInput = h('input', { type: 'date', name: 'from', value: dayInput(filter.from) });
  const toInput = h('input', { type: 'date', name: 'to', value: dayInput(filter.to ? Number(filter.to) - 1 : '') });
  const form = h('form', {
    class: 'filters', testid: 'order-filters',
    on: {
      submit: (e) => {
        e.preventDefault();
        const to = dayStart(toInput.value);
        go('orders', {
          status: statusPicker.value,
          region: regionPicker?.value,
          dealer_id: dealerInput?.value.trim().toUpperCase(),
          from: dayStart(fromInput.value),
          // Through the end of the chosen day.
          to: to === null ? null : to + 86_400_000,
        });
      },
    },
  },
  field('Status', statusPicker),
  regionPicker ? field('Region', regionPicker) : null,
  dealerInput ? field('Dealer', dealerInput) : null,
  field('Placed from', fromInput),
  field('Placed through', toInput),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('a', { href: href('orders'), class: 'button secondary' }, 'Clear')));

  const rows = page.orders.map((o) => h('tr', { testid: 'order-row', 'data-order-id': o.id },
    h('th', { scope: 'row' }, h('a', { href: href(['orders', o.id]), testid: 'order-link' }, o.id)),
    dealer ? null : h('td', null, o.dealer_id),
    dealer ? null : h('td', null, o.region),
    h('td', null, statusBadge(o.status)),
    h('td', null, humanise(o.order_type), o.urgency === 'expedited' ? badge('expedited', 'warn') : null),
    h('td', null, time(o.placed_at)),
    h('td', { class: 'num' }, money(o.total), o.discount ? h('div', { class: 'muted' }, `−${money(o.discount)} off`) : null),
    h('td', { class: 'num' }, money(o.paid))));

  const keep = { ...filter };
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    trail.length || cursor
      ? h('a', {
        class: 'button secondary', testid: 'page-prev',
        href: href('orders', { ...keep, cursor: trail.length ? trail[trail.length - 1] : '', trail: trail.slice(0, -1).join(' ') }),
      }, '← Newer')
      : null,
    h('span', { class: 'muted' }, `Page ${trail.length + (cursor ? 2 : 1)} · ${page.orders.length} order(s)`),
    page.next_cursor
      ? h('a', {
        class: 'button secondary', testid: 'page-next',
        href: href('orders', { ...keep, cursor: page.next_cursor, trail: [...trail, cursor].filter(Boolean).join(' ') }),
      }, 'Older →')
      : null);

  const columns = [{ label: 'Order' }, dealer ? null : { label: 'Dealer' }, dealer ? null : { label: 'Region' },
    { label: 'Status' }, { label: 'Type' }, { label: 'Placed' }, { label: 'Total', numeric: true }, { label: 'Paid', numeric: true }]
    .filter(Boolean);
  const title = dealer ? `Orders of ${ctx.me.dealer_id}` : ctx.me.role === 'region_admin' ? `Orders in ${ctx.me.region}` : 'Orders';
  return h('section', null,
    heading(title),
    form,
    table({ caption: 'Newest first', testid: 'orders-table', columns, rows, empty: 'No orders match these filters.' }),
    pager);
}
