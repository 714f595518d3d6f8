// Near-expiry clearance (临期清仓) for one region, the same rules as the
// Rust twin: a percentage off every line of a product HQ flagged a lot of,
// rising as the lot's best-before date nears, measured from the order's
// placed-at; several lots of a product: the first to expire counts.
//
// Values are as componentize-js passes them: record fields in camelCase,
// s64 (money, timestamps) as BigInt, u32 as Number, variants as
// `{ tag, val }`.

import { stepFor } from './config.js';
import { daysLeft, isoDate, percent, percentOf, yuan } from './format.js';

/** The adjustments for one promotion input; `log(level, message)` writes
 * to the decision trace. */
export function clearance(config, input, log) {
  const order = input.order;
  if (order.region !== config.region) {
    log('debug', `order of region ${order.region}; this clearance is for ${config.region}`);
    return [];
  }
  const firstOut = firstOutLots(input.nearExpiryLots, input.products.length, log);
  const adjustments = [];
  let total = 0n;
  for (const line of input.lines) {
    const lot = firstOut[line.product];
    if (!lot) continue;
    const sku = input.products[line.product].sku;
    const days = daysLeft(order.placedAt, lot.bestBefore);
    if (days === undefined) {
      log(
        'warn',
        `line ${line.lineNo}: lot ${lot.lot} of ${sku} was best before ${isoDate(lot.bestBefore)}, before the order: no clearance`,
      );
      continue;
    }
    const step = stepFor(config, days);
    if (!step) {
      log('debug', `line ${line.lineNo}: lot ${lot.lot} of ${sku} has ${days} days left, more than any step`);
      continue;
    }
    const amount = line.amount > 0n ? line.amount : 0n;
    let off = percentOf(amount, step.offBp);
    if (off > amount) off = amount;
    if (off <= 0n) continue;
    total += off;
    adjustments.push({
      promotionId: config.promotionId,
      kind: { tag: 'line-discount', val: { lineNo: line.lineNo, amount: off } },
      description:
        `${config.label}: lot ${lot.lot} of ${sku} best before ${isoDate(lot.bestBefore)}, ` +
        `${days} ${days === 1n ? 'day' : 'days'} left: ${percent(step.offBp)} off line ${line.lineNo} ` +
        `of ${yuan(amount)} = ${yuan(off)}`,
    });
  }
  if (adjustments.length > 0) {
    log('info', `${config.promotionId}: ${adjustments.length} line(s) of near-expiry lots, ${yuan(total)} off`);
  }
  return adjustments;
}

/** Per input product (same index), its flagged lot with the earliest
 * best-before date (the first listed on a tie). */
function firstOutLots(lots, products, log) {
  const first = new Array(products).fill(undefined);
  for (const lot of lots) {
    if (lot.product >= products) {
      log('debug', `lot ${lot.lot} refers to product ${lot.product}, which is not in the input`);
      continue;
    }
    const kept = first[lot.product];
    if (!kept || lot.bestBefore < kept.bestBefore) first[lot.product] = lot;
  }
  return first;
}
