// Hash routes: "#/orders/ORD-1?status=approved" → { path: ['orders',
// 'ORD-1'], query }. Views deep-link and the back button works.

export function current() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  return {
    path: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

/** "#/a/b?x=1" for path segments and query parameters (empty ones dropped). */
export function href(path, params) {
  const segments = (Array.isArray(path) ? path : [path]).map((p) => encodeURIComponent(p));
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') q.set(key, value);
  }
  const search = q.toString();
  return `#/${segments.join('/')}${search ? `?${search}` : ''}`;
}

export function go(path, params) {
  const target = href(path, params);
  if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}
