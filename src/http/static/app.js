// Samsa console: plain ES module, no build step. Hash routes pick a view; each view builds its
// forms once and re-renders only its data part on every poll, so typing is never interrupted.

const POLL_MS = 2000;
const view = document.getElementById('view');
const statusEl = document.getElementById('status');
let current = null; // { refresh, timer }

/** Creates an element; children are nodes or text (always inserted as text, never as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function api(method, url, body) {
  const res = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function setStatus(text, error = false) {
  statusEl.textContent = text;
  statusEl.className = error ? 'error' : '';
}

const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
function fmtDuration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${mm}m` : `${mm}m ${s % 60}s`;
}
const topicHref = (t) => `#/topic/${encodeURIComponent(t)}`;
const enc = encodeURIComponent;

function card(label, value, testid) {
  return h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', 'data-testid': testid }, value));
}

function table(headers, rows, attrs = {}) {
  return h('table', attrs, h('thead', {}, h('tr', {}, headers.map((x) => h('th', { class: x.num ? 'num' : null }, x.label ?? x)))), h('tbody', {}, rows));
}

/** Messages in/out per second as two polylines. */
function sparkline(points) {
  const w = 600, hgt = 60;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('data-testid', 'sparkline');
  const max = Math.max(1, ...points.map((p) => Math.max(p.messagesIn, p.messagesOut)));
  for (const [key, color] of [['messagesIn', '#2f5bd3'], ['messagesOut', '#1f9d55']]) {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    const step = points.length > 1 ? w / (points.length - 1) : w;
    line.setAttribute('points', points.map((p, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (p[key] / max) * (hgt - 4)).toFixed(1)}`).join(' '));
    line.setAttribute('stroke', color);
    svg.append(line);
  }
  return svg;
}

// ---------------------------------------------------------------- views

function overviewView() {
  const body = h('div');
  view.replaceChildren(h('h1', {}, 'Overview'), body);
  return async () => {
    const o = await api('GET', '/api/overview');
    const last = o.throughput[o.throughput.length - 1] ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
    body.replaceChildren(
      h('div', { class: 'cards' },
        card('Version', o.version, 'version'),
        card('Cluster id', o.clusterId),
        card('Brokers', o.brokers.map((b) => `${b.nodeId} @ ${b.host}:${b.port}`).join(', '), 'brokers'),
        card('Listeners', o.listeners.map((l) => `${l.name} ${l.host}:${l.port}`).join(', ')),
        card('Uptime', fmtDuration(o.uptimeMs), 'uptime'),
        card('Topics', fmtInt(o.topics)),
        card('Connections', fmtInt(o.connections)),
        card('Data dir', o.dataDir),
        card('Data dir size', fmtBytes(o.dataDirBytes), 'data-dir-size'),
      ),
      h('h2', {}, `Throughput (last ${o.throughput.length} s): in ${fmtInt(Math.round(last.messagesIn))} msg/s (${fmtBytes(last.bytesIn)}/s), out ${fmtInt(Math.round(last.messagesOut))} msg/s (${fmtBytes(last.bytesOut)}/s)`),
      sparkline(o.throughput),
      h('p', { class: 'muted' }, 'Blue: messages in per second; green: messages out per second.'),
    );
  };
}

function topicsView() {
  const list = h('div');
  const msg = h('span', { 'data-testid': 'create-topic-result' });
  const form = h('form', { 'data-testid': 'create-topic-form' },
    h('label', {}, 'Topic name', h('input', { name: 'name', required: true, 'data-testid': 'new-topic-name' })),
    h('label', {}, 'Partitions', h('input', { name: 'partitions', type: 'number', min: 1, value: 1, 'data-testid': 'new-topic-partitions' })),
    h('label', {}, 'Configs (key=value, one a line)', h('textarea', { name: 'configs', rows: 1, cols: 30 })),
    h('button', { type: 'submit', 'data-testid': 'create-topic' }, 'Create topic'),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const configs = {};
    for (const line of String(f.get('configs') || '').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) configs[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      const t = await api('POST', '/api/topics', { name: f.get('name'), partitions: Number(f.get('partitions')), configs });
      msg.className = '';
      msg.textContent = `Created ${t.name}`;
      form.reset();
      await refresh();
    } catch (err) {
      msg.className = 'error';
      msg.textContent = err.message;
    }
  });
  view.replaceChildren(h('h1', {}, 'Topics'), form, list);
  const refresh = async () => {
    const topics = await api('GET', '/api/topics');
    list.replaceChildren(
      table(['Topic', { label: 'Partitions', num: 1 }, { label: 'Offsets held', num: 1 }, { label: 'Size on disk', num: 1 }],
        topics.map((t) => h('tr', { 'data-topic': t.name },
          h('td', {}, h('a', { href: topicHref(t.name) }, t.name), t.internal ? [' ', h('span', { class: 'tag' }, 'internal')] : null),
          h('td', { class: 'num' }, fmtInt(t.partitions)), h('td', { class: 'num' }, fmtInt(t.offsets)), h('td', { class: 'num' }, fmtBytes(t.sizeBytes)))),
        { 'data-testid': 'topics-table' }),
    );
  };
  return refresh;
}

function topicView(name) {
  const details = h('div');
  const msg = h('span', { 'data-testid': 'produce-result' });
  const form = h('form', { 'data-testid': 'produce-form' },
    h('label', {}, 'Partition', h('input', { name: 'partition', type: 'number', min: 0, value: 0 })),
    h('label', {}, 'Key', h('input', { name: 'key' })),
    h('label', {}, 'Value', h('textarea', { name: 'value', rows: 1, cols: 40 })),
    h('button', { type: 'submit' }, 'Produce test message'),
    msg,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      const r = await api('POST', `/api/topics/${enc(name)}/messages`, { partition: Number(f.get('partition')), key: f.get('key'), value: f.get('value') });
      msg.className = '';
      msg.textContent = `Written at ${r.partition}@${r.offset}`;
      await refresh();
    } catch (err) {
      msg.className = 'error';
      msg.textContent = err.message;
    }
  });
  const del = h('button', { class: 'danger', type: 'button' }, 'Delete topic');
  del.addEventListener('click', async () => {
    if (!confirm(`Delete topic ${name} and all its data?`)) return;
    try {
      await api('DELETE', `/api/topics/${enc(name)}`);
      location.hash = '#/topics';
    } catch (err) {
      msg.className = 'error';
      msg.textContent = err.message;
    }
  });
  view.replaceChildren(h('h1', {}, 'Topic ', h('span', { 'data-testid': 'topic-name' }, name)), details, h('h2', {}, 'Produce'), form, h('p', {}, del));
  const refresh = async () => {
    const t = await api('GET', `/api/topics/${enc(name)}`);
    details.replaceChildren(
      h('p', { class: 'muted' }, `Topic id ${t.topicId} · ${fmtInt(t.offsets)} offsets · ${fmtBytes(t.sizeBytes)}`),
      table(['Partition', 'Leader', 'Leader epoch', { label: 'Start offset', num: 1 }, { label: 'End offset', num: 1 }, { label: 'Last stable', num: 1 }, { label: 'Size', num: 1 }, { label: 'Segments', num: 1 }, ''],
        t.partitionDetails.map((p) => h('tr', {},
          h('td', {}, p.partition), h('td', {}, p.leader), h('td', {}, p.leaderEpoch),
          h('td', { class: 'num' }, fmtInt(p.logStartOffset)), h('td', { class: 'num' }, fmtInt(p.logEndOffset)), h('td', { class: 'num' }, fmtInt(p.lastStableOffset)),
          h('td', { class: 'num' }, fmtBytes(p.sizeBytes)), h('td', { class: 'num' }, p.segments),
          h('td', {}, h('a', { href: `${topicHref(name)}/p/${p.partition}`, 'data-testid': `browse-${p.partition}` }, 'Browse messages'))))),
      h('h2', {}, 'Configs'),
      table(['Name', 'Value'], t.configs.map((c) => h('tr', {}, h('td', {}, c.overridden ? h('b', {}, c.name) : c.name), h('td', {}, c.value ?? '')))),
    );
  };
  return refresh;
}

function renderValue(text, encoding) {
  if (text === null) return h('span', { class: 'muted' }, 'null');
  return [h('pre', {}, text), encoding !== 'text' ? h('span', { class: 'tag' }, encoding) : null];
}

function browserView(name, partition, query) {
  const results = h('div', { 'data-testid': 'messages' });
  const mode = query.get('mode') || 'newest';
  const form = h('form', { 'data-testid': 'browse-form' },
    h('label', {}, 'From', h('select', { name: 'mode' }, ['newest', 'offset', 'timestamp'].map((m) => h('option', { value: m, selected: m === mode }, m)))),
    h('label', {}, 'Offset or timestamp (ms)', h('input', { name: 'at', value: query.get('at') || '' })),
    h('label', {}, 'Limit', h('input', { name: 'limit', type: 'number', min: 1, max: 500, value: query.get('limit') || 50 })),
    h('button', { type: 'submit' }, 'Read'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    location.hash = `${topicHref(name)}/p/${partition}?mode=${enc(f.get('mode'))}&at=${enc(f.get('at'))}&limit=${enc(f.get('limit'))}`;
  });
  view.replaceChildren(h('h1', {}, h('a', { href: topicHref(name) }, name), ` · partition ${partition}`), form, results);
  const params = new URLSearchParams({ limit: query.get('limit') || '50' });
  if (mode === 'offset') params.set('offset', query.get('at') || '0');
  else if (mode === 'timestamp') params.set('timestamp', query.get('at') || '0');
  else params.set('newest', '1');
  return async () => {
    try {
      const r = await api('GET', `/api/topics/${enc(name)}/partitions/${partition}/messages?${params}`);
      results.replaceChildren(
        h('p', { class: 'muted' }, `Offsets ${fmtInt(r.logStartOffset)}–${fmtInt(r.logEndOffset)} held; showing ${r.records.length} from ${fmtInt(r.from)}`),
        table(['Offset', 'Timestamp', 'Key', 'Value', 'Headers', ''],
          r.records.map((m) => h('tr', { class: m.aborted ? 'aborted' : null, 'data-offset': m.offset },
            h('td', { class: 'num' }, m.offset),
            h('td', {}, m.timestamp >= 0 ? new Date(m.timestamp).toISOString() : '–', h('div', { class: 'muted' }, m.timestampType)),
            h('td', { 'data-testid': 'key' }, m.control ? '' : renderValue(m.key, m.keyEncoding)),
            h('td', { 'data-testid': 'value' }, m.control ? h('span', { class: 'tag control' }, `${m.control} marker`) : renderValue(m.value, m.valueEncoding)),
            h('td', {}, m.headers.map((x) => h('div', {}, `${x.key}: `, x.value === null ? 'null' : x.value))),
            h('td', {},
              m.compression !== 'none' ? h('span', { class: 'tag', 'data-testid': 'compression' }, m.compression) : null,
              m.transactional ? h('span', { class: 'tag' }, 'txn') : null,
              m.aborted ? h('span', { class: 'tag aborted' }, 'aborted') : null))),
          { 'data-testid': 'messages-table' }),
      );
    } catch (err) {
      results.replaceChildren(h('p', { class: 'error', 'data-testid': 'browse-error' }, err.message));
    }
  };
}

function groupsView() {
  const list = h('div');
  view.replaceChildren(h('h1', {}, 'Consumer groups'), list);
  return async () => {
    const gs = await api('GET', '/api/groups');
    list.replaceChildren(gs.length === 0 ? h('p', { class: 'muted' }, 'No groups yet.') :
      table(['Group', 'Type', 'State', { label: 'Members', num: 1 }, { label: 'Total lag', num: 1 }],
        gs.map((g) => h('tr', { 'data-group': g.groupId },
          h('td', {}, h('a', { href: `#/group/${enc(g.groupId)}` }, g.groupId)), h('td', {}, g.type === 'consumer' ? 'consumer (KIP-848)' : 'classic'),
          h('td', {}, g.state), h('td', { class: 'num' }, g.members), h('td', { class: 'num' }, fmtInt(g.lag))))));
  };
}

function groupView(id) {
  const body = h('div');
  view.replaceChildren(h('h1', {}, 'Group ', id), body);
  return async () => {
    const g = await api('GET', `/api/groups/${enc(id)}`);
    body.replaceChildren(
      h('p', {}, `${g.type === 'consumer' ? 'KIP-848 consumer group' : 'Classic group'} · state `, h('b', { 'data-testid': 'group-state' }, g.state),
        g.protocol ? ` · protocol ${g.protocol}` : '', g.generation !== null ? ` · generation ${g.generation}` : ''),
      h('h2', {}, 'Members'),
      g.members.length === 0 ? h('p', { class: 'muted' }, 'No members.') :
        table(['Member', 'Client', 'Host', 'Assignment'], g.members.map((m) => h('tr', {},
          h('td', {}, m.memberId, m.instanceId ? h('div', { class: 'muted' }, `instance ${m.instanceId}`) : null), h('td', {}, m.clientId), h('td', {}, m.clientHost),
          h('td', {}, m.assignment === null ? '(not a consumer assignment)' : m.assignment.map((a) => h('div', {}, `${a.topic}: ${a.partitions.join(', ')}`)))))),
      h('h2', {}, 'Offsets and lag'),
      table(['Topic', 'Partition', { label: 'Committed', num: 1 }, { label: 'End offset', num: 1 }, { label: 'Lag', num: 1 }, 'Member'],
        g.partitions.map((p) => h('tr', {},
          h('td', {}, h('a', { href: topicHref(p.topic) }, p.topic)), h('td', {}, p.partition),
          h('td', { class: 'num' }, fmtInt(p.committed)), h('td', { class: 'num' }, fmtInt(p.logEndOffset)),
          h('td', { class: 'num', 'data-testid': `lag-${p.topic}-${p.partition}` }, fmtInt(p.lag)), h('td', {}, p.member ?? '–')))),
    );
  };
}

// ---------------------------------------------------------------- routing and polling

function route() {
  if (current) clearTimeout(current.timer);
  const [pathPart, qs] = (location.hash.slice(1) || '/').split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(qs || '');
  let refresh;
  let live = true;
  if (parts[0] === 'topics') refresh = topicsView();
  else if (parts[0] === 'topic' && parts[2] === 'p') {
    refresh = browserView(parts[1], Number(parts[3]), query);
    live = false; // a page of records stays put while it is read
  } else if (parts[0] === 'topic') refresh = topicView(parts[1]);
  else if (parts[0] === 'groups') refresh = groupsView();
  else if (parts[0] === 'group') refresh = groupView(parts[1]);
  else refresh = overviewView();
  for (const a of document.querySelectorAll('nav a[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === ((parts[0] || 'overview').replace(/^topic$/, 'topics').replace(/^group$/, 'groups')));
  }
  const me = { timer: null };
  current = me;
  const tick = async () => {
    try {
      await refresh();
      setStatus(`updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      setStatus(err.message, true);
      if (!live) view.append(h('p', { class: 'error' }, err.message));
    }
    if (live && current === me) me.timer = setTimeout(tick, POLL_MS);
  };
  void tick();
}

window.addEventListener('hashchange', route);
route();
