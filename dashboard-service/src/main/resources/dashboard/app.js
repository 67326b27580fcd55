// Infection-control dashboard: a snapshot then live "alert" and "ack" events over Server-Sent Events.
// Every piece of data comes from /api with the token; nothing from the server is inserted as HTML.
'use strict';

const state = {
  token: null,
  alerts: new Map(),      // alertId -> alert JSON (the entry with the highest version wins)
  selected: null,
  pending: new Set(),     // alertIds whose acknowledgement was sent but has not come back as an event yet
  drafts: new Map(),      // alertId -> note typed next to its Acknowledge button, not sent yet
  source: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function takeToken() {
  // ?token= opens the page once; the token then lives in this tab's session storage and leaves the address bar.
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('cxr-token', fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem('cxr-token');
}

async function api(path, options = {}) {
  const headers = Object.assign({ 'Authorization': 'Bearer ' + state.token }, options.headers || {});
  return fetch(path, Object.assign({}, options, { headers }));
}

function withToken(path) {
  return path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(state.token);
}

function imageUrl(imageId, plane) {
  return withToken('/api/images/' + encodeURIComponent(imageId) + '/' + plane + '.png');
}

const pct = (p) => (100 * p).toFixed(1) + ' %';
const when = (iso) => new Date(iso).toLocaleString();
const MAX_NOTE = 500; // the service refuses longer notes

function upsert(a) {
  const old = state.alerts.get(a.alertId);
  if (old && old.version > a.version) return false;
  state.alerts.set(a.alertId, a);
  if (a.acknowledged) state.pending.delete(a.alertId);
  return true;
}

function stateText(a) {
  if (a.withdrawn) return 'Withdrawn (image retracted)';
  if (state.pending.has(a.alertId) && !a.acknowledged) return 'Acknowledging…';
  if (!a.acknowledged) return 'Open';
  return 'Acknowledged' + (a.updatedSinceAck ? ' (new image since)' : '');
}

// Every site the alert's images came from (an alert stays in each of those sites' view).
function sitesOf(a) {
  return a.sites && a.sites.length ? a.sites : [a.siteId];
}

// The newest image's site first, then the others.
function siteText(a) {
  const others = sitesOf(a).filter((s) => s !== a.siteId);
  return a.siteId + (others.length ? ' (also ' + others.join(', ') + ')' : '');
}

function renderSites() {
  const select = $('site-filter');
  const current = select.value;
  const sites = [...new Set([...state.alerts.values()].flatMap(sitesOf))].sort();
  select.replaceChildren(el('option', { value: '' }, 'all sites'), ...sites.map((s) => el('option', { value: s }, s)));
  select.value = sites.includes(current) ? current : '';
}

function ackedBy(a) {
  return 'by ' + a.ack.acknowledgedBy + ' at ' + when(a.ack.acknowledgedAt);
}

function stateCell(a) {
  const td = el('td', { class: 'state' }, el('span', { class: 'state-label' }, stateText(a)));
  if (a.ack) {
    td.append(el('div', { class: 'ack-by muted' }, ackedBy(a)));
    if (a.ack.note) td.append(el('div', { class: 'ack-note-text', title: 'note' }, a.ack.note));
  }
  return td;
}

function ackCell(a) {
  const pending = state.pending.has(a.alertId);
  const canAck = (!a.acknowledged || a.updatedSinceAck) && !pending;
  const button = el('button', { type: 'button', class: 'ack-btn', disabled: !canAck },
    a.acknowledged && a.updatedSinceAck ? 'Acknowledge again' : 'Acknowledge');
  button.addEventListener('click', (ev) => { ev.stopPropagation(); acknowledge(a.alertId); });
  const td = el('td', { class: 'actions' });
  if (canAck || pending) {
    // Optional free text sent with the acknowledgement; kept across re-renders while it is being typed.
    const note = el('input', { type: 'text', class: 'ack-note', maxLength: MAX_NOTE, disabled: pending,
      placeholder: 'note…', title: 'optional note, shown on every dashboard; no patient identifiers',
      value: state.drafts.get(a.alertId) || '' });
    note.setAttribute('aria-label', 'note for the acknowledgement of ' + a.alertId);
    note.addEventListener('click', (ev) => ev.stopPropagation());
    note.addEventListener('input', () => state.drafts.set(a.alertId, note.value));
    note.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { ev.preventDefault(); acknowledge(a.alertId); }
    });
    td.append(note);
  }
  td.append(button);
  return td;
}

function renderList(freshId) {
  const site = $('site-filter').value;
  const hideAcked = $('hide-acked').checked;
  const rows = [...state.alerts.values()]
    .filter((a) => (!site || sitesOf(a).includes(site)) && !(hideAcked && a.acknowledged))
    .sort((x, y) => y.lastSeen.localeCompare(x.lastSeen) || y.raisedAt.localeCompare(x.raisedAt)
      || x.alertId.localeCompare(y.alertId));
  const body = $('alerts').tBodies[0];
  // Live events re-render the rows: keep the caret in a note that is being typed.
  const active = document.activeElement;
  const typing = active && active.classList.contains('ack-note') ? {
    alertId: active.closest('tr').dataset.alertId, start: active.selectionStart, end: active.selectionEnd,
  } : null;
  body.replaceChildren(...rows.map((a) => {
    const tr = el('tr', { 'data-alert-id': a.alertId, class: (a.acknowledged ? 'acknowledged' : 'open')
      + (a.alertId === state.selected ? ' selected' : '') + (a.alertId === freshId ? ' fresh' : '') },
    el('td', {}, when(a.lastSeen)), el('td', { class: 'images' }, a.withdrawn ? 0 : a.imageCount || 1), el('td', {}, siteText(a)), el('td', { title: a.patientRef }, a.patientRef.slice(0, 14) + '…'),
    el('td', { class: 'prob' }, a.imageWithdrawn ? '–' : pct(a.probability)),
    el('td', { class: 'prob' }, a.imageWithdrawn ? '–' : pct(a.knnVote)),
    stateCell(a), ackCell(a));
    tr.addEventListener('click', () => select(a.alertId));
    return tr;
  }));
  if (typing) {
    const input = [...body.querySelectorAll('input.ack-note')]
      .find((i) => i.closest('tr').dataset.alertId === typing.alertId);
    if (input && !input.disabled) {
      input.focus();
      input.setSelectionRange(typing.start, typing.end);
    }
  }
  $('empty').hidden = rows.length > 0;
  $('count').textContent = rows.length + ' shown of ' + state.alerts.size;
}

function xray(imageId, large) {
  const cxr = el('img', { alt: 'chest X-ray ' + imageId, src: imageUrl(imageId, 'cxr') });
  const lung = el('img', { alt: 'lung overlay', class: 'overlay', src: imageUrl(imageId, 'lung') });
  lung.style.opacity = overlayOpacity();
  const stack = el('div', { class: 'stack' }, cxr, lung);
  cxr.addEventListener('error', () => stack.replaceWith(el('div', { class: 'missing' }, 'picture not available')));
  lung.addEventListener('error', () => lung.remove());
  return large ? stack : el('figure', {}, stack);
}

function overlayOpacity() {
  return $('overlay-on').checked ? String($('overlay-opacity').value / 100) : '0';
}

function renderDetail() {
  const a = state.alerts.get(state.selected);
  $('detail').hidden = !a;
  if (!a) return;
  $('d-alert-id').textContent = a.alertId;
  const facts = [
    ['patient (pseudonym)', a.patientRef], ['site', siteText(a)],
    ['image (newest)', a.imageId + (a.imageWithdrawn ? ' (withdrawn by its site)' : '')],
    ['probability', a.imageWithdrawn ? '–' : pct(a.probability)], ['kNN vote', a.imageWithdrawn ? '–' : pct(a.knnVote)], ['positive images', a.withdrawn ? 0 : a.imageCount || 1],
    ['first seen', when(a.firstSeen)],
    ['last seen', when(a.lastSeen)], ['raised', when(a.raisedAt)], ['rule', a.rule],
    ['state', stateText(a) + (a.ack ? ' ' + ackedBy(a) : '')],
  ];
  if (a.openedByImageId) facts.splice(3, 0, ['opened by image', a.openedByImageId]);
  if (a.ack && a.ack.note) facts.push(['note', a.ack.note]);
  $('d-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const cxr = $('d-cxr');
  const shown = a.imageWithdrawn ? '' : a.imageId;
  if (cxr.dataset.imageId !== shown) {
    cxr.dataset.imageId = shown;
    cxr.src = shown ? imageUrl(shown, 'cxr') : '';
    $('d-lung').src = shown ? imageUrl(shown, 'lung') : '';
  }
  $('d-lung').style.opacity = overlayOpacity();
  $('neighbours').replaceChildren(...a.neighbours.map((n) => el('div', { class: 'case', 'data-image-id': n.imageId },
    xray(n.imageId, false),
    el('div', {}, 'distance ', n.distance.toFixed(3)),
    el('div', {}, 'probability ', pct(n.probability)),
    el('div', {}, el('span', { class: n.positive ? 'label-pos' : 'label-neg' }, n.positive ? 'positive' : 'negative'),
      ' · ', n.confirmed ? 'confirmed (PCR)' : 'predicted'),
    el('div', { class: 'muted' }, n.siteId, ' · ', n.patientRef ? n.patientRef.slice(0, 12) + '…' : 'patient of another site'))));
  if (a.neighbours.length === 0) $('neighbours').append(el('p', { class: 'muted' }, 'No similar cases.'));
}

function select(alertId) {
  state.selected = alertId;
  // #alert=<id> links to an alert (no patient data in it); the token never goes into the link.
  history.replaceState(null, '', alertId ? '#alert=' + encodeURIComponent(alertId) : location.pathname);
  renderList();
  renderDetail();
}

async function acknowledge(alertId) {
  if (state.pending.has(alertId)) return;
  // Optional free text from the box next to the button (no patient identifiers: it goes to every dashboard).
  const note = (state.drafts.get(alertId) || '').trim() || null;
  state.pending.add(alertId);
  renderList();
  const r = await api('/api/alerts/' + encodeURIComponent(alertId) + '/ack', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ note }),
  });
  if (r.status === 202) {
    state.drafts.delete(alertId);
  } else {
    state.pending.delete(alertId);
    const body = await r.json().catch(() => ({}));
    alert('Not acknowledged: ' + (body.message || r.status));
  }
  // On 202 the row changes when the acknowledgement comes back as an event, as it does on every other dashboard.
  renderList();
  renderDetail();
}

function connect() {
  if (state.source) state.source.close();
  const source = new EventSource(withToken('/api/alerts/stream'));
  state.source = source;
  const conn = $('connection');
  source.onopen = () => { conn.textContent = 'live'; conn.className = 'conn conn-live'; };
  source.onerror = () => {
    conn.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
    conn.className = 'conn conn-off';
  };
  source.addEventListener('snapshot', (ev) => {
    const data = JSON.parse(ev.data);
    state.alerts.clear();
    data.alerts.forEach(upsert);
    const linked = location.hash.startsWith('#alert=') ? decodeURIComponent(location.hash.slice(7)) : null;
    if (!state.selected && linked && state.alerts.has(linked)) state.selected = linked;
    renderSites();
    renderList();
    renderDetail();
  });
  const onChange = (ev) => {
    const a = JSON.parse(ev.data);
    if (upsert(a)) {
      renderSites();
      renderList(a.alertId);
      if (a.alertId === state.selected) renderDetail();
    }
  };
  source.addEventListener('alert', onChange);
  source.addEventListener('ack', onChange);
}

async function openBoard() {
  const r = await api('/api/whoami');
  if (r.status !== 200) {
    sessionStorage.removeItem('cxr-token');
    $('login').hidden = false;
    $('login-error').textContent = r.status === 401 ? 'That token was refused.' : 'Error ' + r.status;
    return;
  }
  const who = await r.json();
  $('who').textContent = who.site === '*' ? 'all sites' : 'site ' + who.site;
  $('login').hidden = true;
  $('board').hidden = false;
  connect();
}

function init() {
  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.token = $('token-input').value.trim();
    sessionStorage.setItem('cxr-token', state.token);
    openBoard();
  });
  $('site-filter').addEventListener('change', () => renderList());
  $('hide-acked').addEventListener('change', () => renderList());
  $('close-detail').addEventListener('click', () => select(null));
  $('overlay-on').addEventListener('change', renderDetail);
  $('overlay-opacity').addEventListener('input', () => {
    document.querySelectorAll('img.overlay').forEach((i) => { i.style.opacity = overlayOpacity(); });
  });
  state.token = takeToken();
  if (state.token) openBoard(); else $('login').hidden = false;
}

init();
