// Staff forms on an order: ship what a warehouse holds for it (carrier and
// tracking number), and record a carrier's tracking event on a shipment.

import { h, field, select } from '../dom.js';
import { api } from '../api.js';
import { problemBox, announce } from '../ui.js';

function form(testid, legend, controls, submitLabel, send) {
  const slot = h('div');
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const el = h('form', {
    class: 'filters', testid,
    on: {
      submit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        slot.replaceChildren();
        try {
          await send();
        } catch (err) {
          slot.replaceChildren(problemBox(err));
        } finally {
          button.disabled = false;
        }
      },
    },
  }, h('fieldset', null, h('legend', null, legend), h('div', { class: 'filters-row' }, controls, h('div', { class: 'actions' }, button))), slot);
  return el;
}

/** Ship from one warehouse: everything it still holds for the order. */
export function shipForm(view, ctx) {
  const outstanding = new Map();
  for (const a of view.allocations) {
    const left = a.quantity - a.shipped - a.released;
    if (left > 0) outstanding.set(a.warehouse_id, (outstanding.get(a.warehouse_id) || 0) + left);
  }
  if (outstanding.size === 0) return null;
  const warehouse = select('warehouse_id', [...outstanding].map(([w, n]) => [w, `${w} (${n} cases)`]), [...outstanding.keys()][0]);
  const carrier = h('input', { name: 'carrier', required: true, maxLength: 100, placeholder: 'e.g. SF Express' });
  const tracking = h('input', { name: 'tracking_no', required: true, maxLength: 100 });
  return form('ship-form', 'Ship', [field('From warehouse', warehouse), field('Carrier', carrier), field('Tracking number', tracking)],
    'Record shipment', async () => {
      await api(`/orders/${encodeURIComponent(view.id)}/shipments`, {
        method: 'POST',
        body: { warehouse_id: warehouse.value, carrier: carrier.value.trim(), tracking_no: tracking.value.trim() },
      });
      announce(`${view.id}: shipment from ${warehouse.value} recorded.`);
      ctx.refresh();
    });
}

/** A tracking event (where the goods are now) on one shipment. */
export function trackForm(view, shipment, ctx) {
  const location = h('input', { name: 'location', required: true, maxLength: 200, placeholder: 'e.g. Guangzhou hub' });
  const description = h('input', { name: 'description', required: true, maxLength: 500, placeholder: 'e.g. Departed sorting centre' });
  return form('track-form', `Tracking event for ${shipment.id}`, [field('Location', location), field('What happened', description)],
    'Add event', async () => {
      await api(`/orders/${encodeURIComponent(view.id)}/shipments/${encodeURIComponent(shipment.id)}/events`, {
        method: 'POST',
        body: { location: location.value.trim(), description: description.value.trim() },
      });
      announce(`${shipment.id}: tracking event recorded.`);
      ctx.refresh();
    });
}
