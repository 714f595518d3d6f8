// Text for people, written exactly as the Rust twin writes it: fixtures
// compare descriptions character for character.

export const DAY_MS = 86_400_000n;

/** 123456n → "¥1,234.56". */
export function yuan(fen) {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${sign}¥${whole}.${cents}`;
}

/** 2500 → "25%", 1250 → "12.5%", 5 → "0.05%". */
export function percent(bp) {
  const whole = Math.floor(bp / 100);
  const rest = bp % 100;
  if (rest === 0) return `${whole}%`;
  const digits = String(rest).padStart(2, '0').replace(/0$/, '');
  return `${whole}.${digits}%`;
}

/** The UTC calendar date of a timestamp (ms, BigInt), as "2025-04-10". */
export function isoDate(ms) {
  return new Date(Number(ms)).toISOString().slice(0, 10);
}

/** Whole days from `now` until `bestBefore` (BigInt ms), or undefined
 * once the date has passed. */
export function daysLeft(now, bestBefore) {
  const toGo = bestBefore - now;
  return toGo > 0n ? toGo / DAY_MS : undefined;
}

/** `bp` basis points of `amount` (BigInt fen), rounded half away from
 * zero. */
export function percentOf(amount, bp) {
  const product = amount * BigInt(bp);
  return product >= 0n ? (product + 5_000n) / 10_000n : (product - 5_000n) / 10_000n;
}
