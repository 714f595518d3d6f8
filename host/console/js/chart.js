// A small SVG bar chart: one bar per item, values scaled to the largest,
// an optional reference line (e.g. the 30% safety share). The figures are
// also in the page's table; the chart is a picture of them.

import { h, s } from './dom.js';

/**
 * items: [{ key, label, value, display }]; `display` is the text a bar's
 * tooltip and label show. `reference`: { value, label } drawn across.
 */
export function barChart({ title, items, testid, reference, height = 180 }) {
  const barWidth = 26;
  const gap = 8;
  const left = 8;
  const top = 14;
  const bottom = 34;
  const width = left * 2 + items.length * (barWidth + gap);
  const max = Math.max(1, reference?.value ?? 0, ...items.map((i) => i.value || 0));
  const scale = (v) => (Math.max(0, v) / max) * height;
  const titleId = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const bars = items.map((item, i) => {
    const x = left + i * (barWidth + gap);
    const barHeight = scale(item.value || 0);
    return s('g', { class: 'bar' },
      s('rect', {
        x, y: top + height - barHeight, width: barWidth, height: Math.max(barHeight, item.value ? 1 : 0),
        testid: 'chart-bar', 'data-key': item.key, class: item.warn ? 'warn' : null,
      }, s('title', null, `${item.label}: ${item.display}`)),
      s('text', { x: x + barWidth / 2, y: top + height + 22, 'text-anchor': 'middle', class: 'axis' }, item.key));
  });
  const refLine = reference
    ? s('g', { class: 'reference' },
      s('line', { x1: 0, x2: width, y1: top + height - scale(reference.value), y2: top + height - scale(reference.value) },
        s('title', null, reference.label)))
    : null;
  return h('figure', { class: 'chart', testid },
    h('figcaption', { id: titleId }, title, reference ? h('span', { class: 'muted' }, ` (dashed line: ${reference.label})`) : null),
    s('svg', {
      viewBox: `0 0 ${width} ${top + height + bottom}`, role: 'img', 'aria-labelledby': titleId,
      preserveAspectRatio: 'xMinYMin meet',
    },
    s('line', { x1: 0, x2: width, y1: top + height, y2: top + height, class: 'baseline' }),
    bars, refLine));
}
