// SPDX-License-Identifier: MIT
// The offlinefiles dashboard: a plain ES module that talks to /api/v1 with the
// bearer token the user gives (or #token=... in the URL, kept in sessionStorage
// for this tab only). Every value from the API reaches the page as text nodes,
// never as HTML.

const API = '/api/v1';
const TOKEN_KEY = 'offlinefiles.token';
const POLL_MS = 15000;
const DIRTY_PAGES_MAX = 20; // 20 pages of 500 items: enough for a dashboard hint

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  path: null, // the folder on show, "//server/share[/dir...]"
  shares: [],
  dirty: new Set(), // dirty item paths under the current share
  dirtyRoot: null, // the share those were fetched for
  pollTimer: null,
  sharesKey: '', // the last rendered /shares and /cache answers
  cacheKey: '',
};

// ---------------------------------------------------------------- helpers

/** Build an element: h('td', {class: 'x', onclick: f}, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function formatBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function formatTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function timeEl(iso) {
  return iso ? h('time', { datetime: iso, title: iso }, formatTime(iso)) : '–';
}

/** "//demo/files/a b" -> "demo/files/a%20b" for /api/v1/files/{path}. */
function urlPath(path) {
  return path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
}

function joinPath(dir, name) {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

function parentPath(path) {
  const segs = path.replace(/^\/\//, '').split('/');
  return segs.length <= 2 ? null : `//${segs.slice(0, -1).join('/')}`;
}

/** "//server/share" of any path under it, or null. */
function shareRoot(path) {
  const segs = path.replace(/^\/\//, '').split('/');
  return segs.length >= 2 && segs[0] && segs[1] ? `//${segs[0]}/${segs[1]}` : null;
}

function normalizePath(text) {
  let p = text.trim().replace(/\\/g, '/');
  if (!p) return null;
  p = `//${p.replace(/^\/+/, '')}`.replace(/\/+$/, '');
  return p.length > 2 ? p : null;
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || '';
    this.code = problem.code || '';
  }
}

/**
 * Call the API. Returns the Response for raw reads, else the parsed JSON (or
 * null for an empty answer). Throws ApiError with the problem+json fields.
 */
async function api(method, path, { json, body, headers = {}, raw = false, auth = true } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store' };
  if (auth) init.headers.Authorization = `Bearer ${state.token}`;
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await fetch(`${API}${path}`, init);
  } catch (e) {
    throw new ApiError(0, { title: 'The daemon cannot be reached', detail: String(e.message || e), code: 'network-error' });
  }
  if (!res.ok) {
    let problem = {};
    const type = res.headers.get('Content-Type') || '';
    try {
      if (type.includes('json')) problem = await res.json();
      else problem = { detail: (await res.text()).slice(0, 300) };
    } catch {
      /* an unreadable error body: the status says enough */
    }
    const err = new ApiError(res.status, problem);
    if (res.status === 401 && auth) signOut('The token was refused: sign in again.');
    throw err;
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// ---------------------------------------------------------------- messages

function showError(err, context) {
  const box = $('errors');
  const title = err instanceof ApiError ? err.title : 'Something went wrong';
  const detail = err instanceof ApiError ? err.detail : String(err && err.message ? err.message : err);
  const code = err instanceof ApiError ? err.code : '';
  const item = h('div', { class: 'error' },
    h('div', { class: 'error-text' },
      h('strong', { class: 'error-title' }, context ? `${context}: ${title}` : title),
      detail && detail !== title ? h('span', { class: 'error-detail' }, detail) : null,
      code ? h('code', { class: 'error-code' }, code) : null,
      err instanceof ApiError && err.status ? h('span', { class: 'error-status' }, `HTTP ${err.status}`) : null),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss this error', onclick: () => item.remove() }, '×'));
  box.prepend(item);
  while (box.children.length > 4) box.lastElementChild.remove();
}

function clearErrors() {
  $('errors').replaceChildren();
}

function notify(text) {
  const box = $('messages');
  const item = h('p', { class: 'message' }, text);
  box.replaceChildren(item);
  setTimeout(() => item.remove(), 6000);
}

/** Run an action, showing its error instead of throwing; returns success. */
async function attempt(context, fn) {
  try {
    await fn();
    return true;
  } catch (e) {
    showError(e, context);
    return false;
  }
}

// ---------------------------------------------------------------- token

function takeFragmentToken() {
  if (!location.hash || location.hash.length < 2) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const t = params.get('token');
  if (t === null) return;
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearInterval(state.pollTimer);
  state.pollTimer = null;
  $('app').hidden = true;
  $('refresh').hidden = true;
  $('signout').hidden = true;
  $('login').hidden = false;
  $('status').textContent = reason || 'Signed out.';
  $('token-input').value = '';
  $('token-input').focus();
}

async function signIn(token) {
  state.token = token;
  try {
    const v = await api('GET', '/version');
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login').hidden = true;
    $('app').hidden = false;
    $('refresh').hidden = false;
    $('signout').hidden = false;
    $('version').textContent = `offlinefiles ${v.version} · API ${v.api} · libmicrohttpd ${v.libmicrohttpd}`;
    state.user = v.user;
    await refreshAll();
    clearInterval(state.pollTimer);
    state.pollTimer = setInterval(() => {
      if (document.visibilityState === 'visible' && state.token) refreshOverview(true);
    }, POLL_MS);
  } catch (e) {
    showError(e, 'Sign in');
    if (state.token) {
      // Not a refused token (that signs out in api()): keep it ready for a retry.
      signOut('The daemon did not answer: check that it runs, then sign in again.');
      $('token-input').value = token;
    }
  }
}

// ---------------------------------------------------------------- status

async function loadStatus() {
  const parts = [];
  try {
    const hres = await api('GET', '/health', { auth: false });
    parts.push(hres && hres.status === 'ok' ? 'Daemon healthy' : `Daemon: ${hres && hres.status}`);
  } catch (e) {
    parts.push('Daemon unreachable');
    throw e;
  } finally {
    const who = state.user ? ` · signed in as ${state.user.name}${state.user.admin ? ' (administrator)' : ''}` : '';
    $('status').textContent = parts.join(' · ') + who;
    $('status').dataset.health = parts[0] === 'Daemon healthy' ? 'ok' : 'bad';
  }
}

// ---------------------------------------------------------------- shares

const UP_STATES = ['online', 'transparentlyCached', 'partlyTransparentlyCached'];

function connBadge(conn) {
  const st = conn && conn.state ? conn.state : 'unknown';
  const reason = st === 'offline' && conn.reason ? ` (${conn.reason})` : '';
  return h('span', { class: `badge conn-${st}`, dataset: { state: st } }, `${st}${reason}`);
}

function renderShares() {
  const tbody = $('shares-table').querySelector('tbody');
  const rows = state.shares.map((s) => {
    // Transparently cached is online too: a slow link the share works on.
    const online = s.connection && UP_STATES.includes(s.connection.state);
    const conn = s.connection || {};
    return h('tr', { dataset: { path: s.path } },
      h('th', { scope: 'row' }, h('span', { class: 'mono' }, s.path)),
      h('td', { class: 'mono remote' }, s.remote),
      h('td', {}, h('span', { class: 'badge mode' }, s.cachingMode)),
      h('td', {},
        connBadge(conn),
        conn.lastError ? h('div', { class: 'hint' }, conn.lastError) : null,
        conn.lastChange ? h('div', { class: 'hint' }, 'since ', timeEl(conn.lastChange)) : null),
      h('td', { class: 'actions' },
        h('button', {
          type: 'button', class: 'secondary',
          'aria-label': `Browse ${s.path}`,
          onclick: () => openPath(s.path),
        }, 'Browse'),
        h('button', {
          type: 'button',
          class: online ? 'warn' : '',
          dataset: { action: online ? 'offline' : 'online' },
          'aria-label': online ? `Work offline on ${s.path}` : `Go online on ${s.path}`,
          onclick: (ev) => setConnection(s, online ? 'offline' : 'online', ev.currentTarget),
        }, online ? 'Work offline' : 'Go online')));
  });
  tbody.replaceChildren(...rows);
  $('shares-empty').hidden = state.shares.length > 0;
  $('shares-table').hidden = state.shares.length === 0;
}

async function loadShares() {
  const res = await api('GET', '/shares');
  const shares = res.shares || [];
  // Re-render only on change, so a poll never takes the focus from a button.
  const key = JSON.stringify(shares);
  if (key === state.sharesKey) return;
  state.sharesKey = key;
  state.shares = shares;
  renderShares();
}

async function setConnection(share, want, button) {
  if (button) button.disabled = true;
  const ok = await attempt(`${want === 'offline' ? 'Work offline' : 'Go online'} ${share.path}`, async () => {
    const conn = await api('PUT', `/connection/${urlPath(share.path)}`, { json: { state: want } });
    notify(`${share.path} is now ${conn.state}${conn.state === 'offline' && conn.reason ? ` (${conn.reason})` : ''}.`);
  });
  if (button) button.disabled = false;
  await attempt('Shares', loadShares);
  if (ok && state.path && shareRoot(state.path) === share.path) await attempt('Files', () => loadListing(state.path));
}

// ---------------------------------------------------------------- cache

function spaceRow(label, used, limit, total) {
  const max = limit > 0 ? limit : total;
  const pct = max > 0 ? Math.min(100, (used / max) * 100) : 0;
  const id = `meter-${label.toLowerCase().replace(/\W+/g, '-')}`;
  return h('div', { class: 'space' },
    h('div', { class: 'space-label' },
      h('span', { id }, label),
      h('span', {}, `${formatBytes(used)} of ${formatBytes(max)} (${pct.toFixed(pct < 1 && pct > 0 ? 2 : 0)}%)`)),
    h('meter', { min: 0, max: max > 0 ? max : 1, value: used, low: max * 0.75, high: max * 0.9, optimum: 0, 'aria-labelledby': id }));
}

async function loadCache() {
  const c = await api('GET', '/cache');
  const key = JSON.stringify(c);
  if (key === state.cacheKey) return;
  state.cacheKey = key;
  const sp = c.space || {};
  $('cache-body').replaceChildren(
    h('dl', { class: 'props compact' },
      h('dt', {}, 'Location'), h('dd', { class: 'mono' }, c.location),
      h('dt', {}, 'Caching'), h('dd', {}, h('span', { class: `badge ${c.enabled ? 'conn-online' : 'conn-offline'}` }, c.enabled ? 'enabled' : 'disabled')),
      h('dt', {}, 'Volume'), h('dd', {}, formatBytes(sp.volumeTotal))),
    spaceRow('All items', sp.used, sp.limit, sp.volumeTotal),
    spaceRow('Unpinned items', sp.unpinnedUsed, sp.unpinnedLimit, sp.volumeTotal));
}

// ---------------------------------------------------------------- dirty items

async function loadDirty(root) {
  const dirty = new Set();
  let cursor = '';
  for (let page = 0; page < DIRTY_PAGES_MAX; page++) {
    const q = new URLSearchParams({ under: root, depth: 'all', flags: 'dirty', limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const res = await api('GET', `/items?${q}`);
    for (const it of res.items || []) dirty.add(it.path);
    if (!res.next) break;
    cursor = res.next;
  }
  state.dirty = dirty;
  state.dirtyRoot = root;
  renderDirtyList();
}

function isDirtyBelow(path) {
  const prefix = `${path}/`;
  for (const p of state.dirty) if (p.startsWith(prefix)) return true;
  return false;
}

function renderDirtyList() {
  const items = [...state.dirty].sort();
  $('dirty-box').hidden = items.length === 0;
  $('dirty-heading').textContent = `Changed offline in ${state.dirtyRoot || ''} (${items.length})`;
  $('dirty-list').replaceChildren(...items.map((p) => h('li', {},
    h('button', { type: 'button', class: 'link mono', onclick: () => showDetails(p) }, p))));
}

// ---------------------------------------------------------------- browser

function renderCrumbs(path) {
  const ol = $('crumbs');
  if (!path) {
    ol.replaceChildren();
    return;
  }
  const segs = path.replace(/^\/\//, '').split('/');
  const crumbs = [];
  for (let i = 1; i < segs.length; i++) {
    const p = `//${segs.slice(0, i + 1).join('/')}`;
    const label = i === 1 ? `//${segs[0]}/${segs[1]}` : segs[i];
    const current = i === segs.length - 1;
    crumbs.push(h('li', {}, current
      ? h('span', { 'aria-current': 'page', class: 'mono' }, label)
      : h('button', { type: 'button', class: 'link mono', onclick: () => openPath(p) }, label)));
  }
  ol.replaceChildren(...crumbs);
}

function entryRow(dir, e) {
  const path = joinPath(dir, e.name);
  const isDir = e.type === 'directory';
  const dirty = state.dirty.has(path);
  const below = isDir && isDirtyBelow(path);
  const stateCell = [];
  if (dirty) stateCell.push(h('span', { class: 'badge dirty' }, 'changed offline'));
  if (below) stateCell.push(h('span', { class: 'badge dirty-below' }, 'has changes'));
  const nameBtn = h('button', {
    type: 'button', class: 'link entry-name',
    onclick: () => (isDir ? openPath(path) : showDetails(path)),
    'aria-label': isDir ? `Open folder ${e.name}` : `Show details of ${e.name}`,
  }, h('span', { class: `icon icon-${isDir ? 'dir' : 'file'}`, 'aria-hidden': 'true' }), e.name);
  return h('tr', { class: dirty || below ? 'is-dirty' : '', dataset: { path, type: e.type } },
    h('th', { scope: 'row' }, nameBtn),
    h('td', { class: 'num' }, isDir ? '–' : formatBytes(e.size)),
    h('td', {}, timeEl(e.mtime)),
    h('td', {}, stateCell.length ? stateCell : h('span', { class: 'muted' }, isDir ? 'folder' : 'in sync')),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Details of ${e.name}`, onclick: () => showDetails(path) }, 'Details'),
      isDir ? null : h('button', { type: 'button', class: 'secondary', 'aria-label': `Download ${e.name}`, onclick: () => download(path, e.name) }, 'Download')));
}

async function loadListing(path) {
  const root = shareRoot(path);
  const res = await api('GET', `/files/${urlPath(path)}`, { raw: true });
  const type = res.headers.get('Content-Type') || '';
  if (!type.startsWith('application/json')) {
    // The path names a file: show it and its folder instead.
    if (res.body) await res.body.cancel();
    const parent = parentPath(path);
    if (parent) await loadListing(parent);
    await showDetails(path);
    return;
  }
  const listing = await res.json();
  if (root) await attempt('Changed items', () => loadDirty(root));
  state.path = listing.path || path;
  $('goto-input').value = state.path;
  renderCrumbs(state.path);
  const entries = [...(listing.entries || [])].sort((a, b) =>
    (a.type === 'directory' ? 0 : 1) - (b.type === 'directory' ? 0 : 1) || a.name.localeCompare(b.name));
  const rows = [];
  const parent = parentPath(state.path);
  if (parent) {
    rows.push(h('tr', { class: 'up' }, h('th', { scope: 'row' },
      h('button', { type: 'button', class: 'link entry-name', 'aria-label': 'Open the parent folder', onclick: () => openPath(parent) },
        h('span', { class: 'icon icon-up', 'aria-hidden': 'true' }), '..')),
      h('td', {}), h('td', {}), h('td', {}), h('td', {})));
  }
  for (const e of entries) rows.push(entryRow(state.path, e));
  $('listing').querySelector('tbody').replaceChildren(...rows);
  $('listing-caption').textContent = `Contents of ${state.path}`;
  $('listing-wrap').hidden = false;
  $('upload-form').hidden = false;
  const n = entries.length;
  $('listing-note').replaceChildren(
    `${n} ${n === 1 ? 'entry' : 'entries'}`,
    listing.offline ? h('span', { class: 'badge conn-offline' }, 'offline: showing the cached copy') : null);
}

async function openPath(path) {
  await attempt(`Open ${path}`, () => loadListing(path));
}

async function showDetails(path) {
  await attempt(`Details of ${path}`, async () => {
    const it = await api('GET', `/items/${urlPath(path)}`);
    const ch = it.change || {};
    const pin = it.pin || {};
    const flags = [];
    if (ch.dirty) flags.push('dirty');
    if (ch.createdOffline) flags.push('created offline');
    if (ch.deletedOffline) flags.push('deleted offline');
    if (ch.modifiedData) flags.push('data modified');
    if (ch.modifiedAttributes) flags.push('attributes modified');
    if (ch.modifiedTime) flags.push('time modified');
    const pins = Object.entries(pin).filter(([, v]) => v === true).map(([k]) => k);
    const other = [];
    if (it.ghosted) other.push('ghost (no cached content)');
    if (it.sparse) other.push('sparse');
    if (it.encrypted) other.push('encrypted');
    if (it.transparentlyCached) other.push('transparently cached');
    if (it.markedForDeletion) other.push('marked for deletion');
    if (it.suspend && it.suspend.suspended) other.push(it.suspend.root ? 'suspended (root)' : 'suspended');
    const copy = (c) => (c && c.exists
      ? [formatBytes(c.size), ' · ', timeEl(c.mtime), c.attributes && c.attributes.length ? ` · ${c.attributes.join(', ')}` : '']
      : [h('span', { class: 'muted' }, 'absent')]);
    const rows = [
      ['Type', it.type],
      ['Local copy', copy(it.local)],
      ['Remote copy', copy(it.remote)],
      ['Original copy', copy(it.original)],
      ['Changes', flags.length ? flags.map((f) => h('span', { class: 'badge dirty' }, f)) : h('span', { class: 'muted' }, 'none')],
      ['Dirty bytes', it.dirtyBytes ? formatBytes(it.dirtyBytes.local) : '–'],
      ['Pinned', pins.length ? pins.join(', ') : 'no'],
      ['Other', other.length ? other.join(', ') : '–'],
      ['Last access', timeEl(it.lastAccess)],
    ];
    $('details-heading').textContent = it.path.split('/').pop() || it.path;
    $('details-path').textContent = it.path;
    $('details-list').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    $('details-raw').textContent = JSON.stringify(it, null, 2);
    $('details-section').hidden = false;
    $('details-section').dataset.path = it.path;
    $('details-heading').focus({ preventScroll: true });
  });
}

async function download(path, name) {
  await attempt(`Download ${path}`, async () => {
    const res = await api('GET', `/files/${urlPath(path)}`, { raw: true });
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    notify(`Downloaded ${name} (${formatBytes(blob.size)}${res.headers.get('X-Offline') === 'true' ? ', from the offline cache' : ''}).`);
  });
}

async function upload(ev) {
  ev.preventDefault();
  const input = $('upload-input');
  const file = input.files && input.files[0];
  if (!file || !state.path) return;
  const button = $('upload-form').querySelector('button');
  button.disabled = true;
  const target = joinPath(state.path, file.name);
  const ok = await attempt(`Upload ${file.name}`, async () => {
    const res = await api('PUT', `/files/${urlPath(target)}`, {
      body: file,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    notify(`${res && res.created ? 'Created' : 'Replaced'} ${target}${res && res.storedOffline ? ' (stored offline, will sync when online)' : ''}.`);
  });
  button.disabled = false;
  if (ok) {
    input.value = '';
    await attempt('Files', () => loadListing(state.path));
    await attempt('Cache', loadCache);
  }
}

// ---------------------------------------------------------------- wiring

async function refreshOverview(quiet) {
  const ctx = (what) => (quiet ? `${what} (auto refresh)` : what);
  await attempt(ctx('Health'), loadStatus);
  if (!state.token) return;
  await attempt(ctx('Shares'), loadShares);
  await attempt(ctx('Cache'), loadCache);
}

async function refreshAll() {
  await refreshOverview(false);
  if (state.token && state.path) await openPath(state.path);
}

function init() {
  takeFragmentToken();
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token-input').value.trim();
    if (t) signIn(t);
  });
  $('signout').addEventListener('click', () => signOut('Token forgotten. Sign in again to continue.'));
  $('refresh').addEventListener('click', () => {
    clearErrors();
    refreshAll();
  });
  $('goto-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = normalizePath($('goto-input').value);
    if (p) openPath(p);
  });
  $('upload-form').addEventListener('submit', upload);
  $('details-close').addEventListener('click', () => {
    $('details-section').hidden = true;
  });
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    signIn(token);
  } else {
    signOut('Sign in with an API token.');
    loadStatus().catch(() => {});
  }
}

init();
