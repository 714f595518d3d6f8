// How figures read: money is integer fen shown as ¥ with two decimals,
// times are ms since the epoch shown in the browser's local time.

const GROUPED = new Intl.NumberFormat('en-US');

/** 123456 fen → "¥1,234.56"; negative amounts get a minus sign. */
export function money(fen) {
  if (fen === null || fen === undefined || Number.isNaN(Number(fen))) return '—';
  const value = BigInt(Math.trunc(Number(fen)));
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const yuan = GROUPED.format(abs / 100n);
  const cents = String(abs % 100n).padStart(2, '0');
  return `${negative ? '−' : ''}¥${yuan}.${cents}`;
}

export function number(n) {
  return n === null || n === undefined ? '—' : GROUPED.format(n);
}

export function dateTime(ms) {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** A <time> element with the ISO instant for machines. */
export function time(ms, doc = document) {
  if (ms === null || ms === undefined) return '—';
  const el = doc.createElement('time');
  el.dateTime = new Date(ms).toISOString();
  el.textContent = dateTime(ms);
  return el;
}

/** Microseconds → "0.42 ms" / "1.3 s". */
export function micros(us) {
  if (us === null || us === undefined) return '—';
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

/** Basis points → "12.5%". */
export function percentBp(bp) {
  if (bp === null || bp === undefined) return '—';
  return `${(bp / 100).toFixed(bp % 100 === 0 ? 0 : 1)}%`;
}

/** "pending_review" → "Pending review". */
export function humanise(name) {
  if (!name) return '—';
  const text = String(name).replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function shortHash(hash) {
  return hash ? `${String(hash).replace(/^sha256:/, '').slice(0, 12)}…` : '—';
}

/** Local date input value ("2026-11-22") → ms at that local midnight. */
export function dayStart(value) {
  if (!value) return null;
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
}

export function dayInput(ms) {
  if (ms === null || ms === undefined || ms === '') return '';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
