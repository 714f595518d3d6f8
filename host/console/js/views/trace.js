// The decision trace for a person: each plugin in the order it ran, its
// version, what it decided and why, HQ's guardrail findings, faults and
// what the failure policy did, fuel and time.

import { h, table, facts, badge } from '../dom.js';
import { href } from '../router.js';
import { money, number, micros, humanise, shortHash } from '../format.js';

const SLOT_NAMES = {
  anti_diversion: 'Anti-diversion', pricing: 'Pricing', sourcing: 'Sourcing', fallback_sourcing: 'Fallback sourcing',
};

function slotName(slot) {
  if (SLOT_NAMES[slot]) return SLOT_NAMES[slot];
  if (slot.startsWith('promotions/')) return `Promotion “${slot.slice('promotions/'.length)}”`;
  return slot;
}

function reasonList(reasons) {
  return h('ul', { class: 'plain' }, reasons.map((r) => h('li', null, h('code', null, r.code), ' ', r.message)));
}

/** What a step's output says, by its shape (the API keeps it untagged). */
function decided(output) {
  if (output === null || output === undefined) return h('p', { class: 'muted' }, 'No output was used.');
  if (!Array.isArray(output) && output.verdict) {
    const kind = { allow: 'ok', hold: 'warn', reject: 'bad' }[output.verdict];
    return h('div', null, badge(humanise(output.verdict), kind, { testid: 'step-verdict' }),
      output.reasons?.length ? reasonList(output.reasons) : null);
  }
  if (!Array.isArray(output) && output.allocations) {
    return h('div', null,
      h('ul', { class: 'plain' }, output.allocations.map((a) => h('li', null, `${a.sku} × ${number(a.quantity)} from ${a.warehouse_id}`))),
      output.backorders?.length ? h('p', null, 'Backordered: ', output.backorders.map((b) => `${b.sku} × ${number(b.quantity)}`).join(', ')) : null,
      h('p', null, `Priority ${output.priority}`, output.priority_reasons?.length ? `: ${output.priority_reasons.join('; ')}` : ''),
      output.signals?.length
        ? h('ul', { class: 'plain' }, output.signals.map((s) => h('li', null, badge(humanise(s.type), 'info'), ' ',
          Object.entries(s).filter(([k]) => k !== 'type').map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', '))))
        : null);
  }
  if (Array.isArray(output) && output.length && 'unit_price' in output[0]) {
    return h('ul', { class: 'plain' }, output.map((p) => h('li', null, `Line ${p.line_no}: ${money(p.unit_price)}`,
      p.explanation ? h('span', { class: 'muted' }, ` — ${p.explanation}`) : null)));
  }
  if (Array.isArray(output)) {
    if (!output.length) return h('p', { class: 'muted' }, 'Nothing applied to this order.');
    return h('ul', { class: 'plain' }, output.map((a) => {
      let what = '';
      if (a.type === 'line_discount') what = `−${money(a.amount)} on line ${a.line_no}`;
      else if (a.type === 'order_discount') what = `−${money(a.amount)} off the order`;
      else if (a.type === 'free_goods') what = `${a.sku} × ${number(a.quantity)} free`;
      return h('li', null, h('strong', null, what), ' ', a.description, h('span', { class: 'muted' }, ` (${a.promotion_id})`));
    }));
  }
  return h('pre', null, JSON.stringify(output, null, 2));
}

function faultText(fault) {
  if (!fault) return null;
  const { fault: kind, ...rest } = fault;
  const details = Object.entries(rest).map(([k, v]) => `${k.replace(/_/g, ' ')}: ${Array.isArray(v) ? v.join('; ') : v}`).join(', ');
  return `${humanise(kind)}${details ? ` — ${details}` : ''}`;
}

function step(s, i) {
  const statusKind = { ok: 'ok', fault: 'bad', quarantined: 'bad' }[s.status];
  return h('article', { class: ['card', 'trace-step', s.status !== 'ok' && 'faulted'], testid: 'trace-step', 'data-slot': s.slot },
    h('h3', null, `${i + 1}. ${slotName(s.slot)} `,
      h('span', { class: 'plugin', testid: 'trace-plugin' }, `${s.plugin.name}@${s.plugin.version}`), ' ',
      badge(s.status === 'ok' ? 'OK' : humanise(s.status), statusKind, { testid: 'trace-status' })),
    h('div', { class: 'columns' },
      h('div', null, h('h4', null, 'What it decided'), decided(s.output),
        s.fault ? h('div', { class: 'callout bad', testid: 'trace-fault' }, h('strong', null, 'Fault: '), faultText(s.fault),
          s.consequence ? h('div', null, h('strong', null, 'So: '), s.consequence) : null) : null,
        h('h4', null, 'HQ guardrails'),
        s.guardrail_findings.length
          ? h('ul', { class: 'plain', testid: 'trace-guardrails' }, s.guardrail_findings.map((f) => h('li', null, badge('finding', 'bad'), ' ', f)))
          : h('p', { class: 'muted', testid: 'trace-guardrails' }, 'No findings.'),
        s.logs.length
          ? h('details', null, h('summary', null, `Plugin log (${s.logs.length} line${s.logs.length === 1 ? '' : 's'})`),
            h('pre', null, s.logs.map((l) => `[${l.level}] ${l.message}`).join('\n')))
          : null),
      facts([
        ['Slot', h('code', null, s.slot)],
        ['Plugin', `${s.plugin.name} ${s.plugin.version}`],
        ['Kind', humanise(s.plugin.kind)],
        ['WIT', s.plugin.wit_version],
        ['Component', h('code', { title: s.plugin.hash }, shortHash(s.plugin.hash))],
        ['Deployed by', s.deployment_id
          ? h('a', { href: href(['deployments', s.deployment_id]) }, s.deployment_id)
          : 'brand directory'],
        ['Fuel', h('span', { testid: 'trace-fuel' }, number(s.fuel_used))],
        ['Time', h('span', { testid: 'trace-time' }, micros(s.duration_us))],
      ])));
}

export function traceSection(decision) {
  const t = decision.totals;
  const statusKind = { accepted: 'ok', held: 'warn', rejected: 'bad' }[decision.status];
  return h('section', { class: 'trace', testid: 'trace', 'aria-labelledby': 'trace-title' },
    h('h2', { id: 'trace-title' }, 'Decision trace'),
    facts([
      ['Decision', badge(humanise(decision.status), statusKind, { testid: 'decision-status' })],
      ['Plugins run', number(decision.trace.steps.length)],
      ['Total fuel', number(decision.trace.steps.reduce((a, s) => a + s.fuel_used, 0))],
      ['Evaluation time', micros(decision.trace.total_us)],
      ['Subtotal', money(t.subtotal)],
      ['Line discounts', t.line_discounts ? `−${money(t.line_discounts)}` : '—'],
      ['Order discounts', t.order_discounts ? `−${money(t.order_discounts)}` : '—'],
      ['Total', money(t.total)],
    ]),
    decision.reasons.length ? h('div', { class: 'callout' }, h('strong', null, 'Reasons'), reasonList(decision.reasons)) : null,
    decision.lines.length
      ? table({
        caption: 'How each line was priced',
        columns: [{ label: '#' }, { label: 'SKU' }, { label: 'Qty', numeric: true }, { label: 'Unit price', numeric: true },
          { label: 'Discount', numeric: true }, { label: 'Explanation' }],
        rows: decision.lines.map((l) => h('tr', null, h('td', null, l.line_no), h('td', null, l.sku),
          h('td', { class: 'num' }, number(l.quantity)), h('td', { class: 'num' }, money(l.unit_price)),
          h('td', { class: 'num' }, l.discount ? `−${money(l.discount)}` : '—'), h('td', null, l.explanation))),
      })
      : null,
    h('ol', { class: 'plain steps' }, decision.trace.steps.map((s, i) => h('li', null, step(s, i)))));
}
