// Building DOM without innerHTML: every piece of API data becomes a text
// node, so nothing a dealer or plugin typed can inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(node, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key === 'testid') {
      node.setAttribute('data-testid', value);
    } else if (key === 'class' && Array.isArray(value)) {
      node.setAttribute('class', value.filter(Boolean).join(' '));
    } else if (key in node && !(node instanceof SVGElement) && typeof value !== 'string') {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends children: nodes, strings, numbers, arrays; skips null/false. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** h('a', {href: '#/x', testid: 'link'}, 'text', otherNode) */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

/** A table with a caption, header cells and rows of cells. */
export function table({ caption, columns, rows, testid, empty = 'Nothing to show.' }) {
  const head = h('thead', null, h('tr', null, columns.map((c) =>
    h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label))));
  const body = h('tbody', null, rows.length === 0
    ? h('tr', null, h('td', { colSpan: columns.length, class: 'empty' }, empty))
    : rows);
  return h('div', { class: 'table-wrap' },
    h('table', { testid }, caption ? h('caption', null, caption) : null, head, body));
}

/** A definition list from [term, value] pairs (values may be nodes). */
export function facts(pairs, props) {
  return h('dl', { class: 'facts', ...props },
    pairs.filter(Boolean).map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? '—')]));
}

export function badge(text, kind, props) {
  return h('span', { class: ['badge', kind && `badge-${kind}`], ...props }, text);
}

/** A labelled form control. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function select(name, options, value, props) {
  return h('select', { name, ...props }, options.map(([v, label]) =>
    h('option', { value: v, selected: v === (value ?? '') }, label)));
}
