// The pullover status page. It reads GET /v1/status (every 2 s) and GET /v1/events (long-polled)
// with a viewer or admin token and draws them. No framework and no build step: this file is
// served as it is. Everything from the controller reaches the DOM through textContent and
// attributes, never as markup: an event sentence can quote whatever a hostile client sent.

const TOKEN_KEY = 'pullover.token';
const STATUS_EVERY_MS = 2000;
const EVENTS_WAIT_S = 25;
const RETRY_MS = 2000;
/** An agent reports at least every check_interval (10 s by default) and on every poll: a minute of silence is news. */
const SILENT_AFTER_S = 60;
/** Replication further behind than this is drawn as lagging. */
const LAGGING_AFTER_S = 30;
const MAX_EVENTS_SHOWN = 200;
const MAX_AGENTS_SHOWN = 300;
const SVG_NS = 'http://www.w3.org/2000/svg';

const byId = (id) => document.getElementById(id);

// ---- DOM building: text only ever enters as text nodes or attribute values ----

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

const h = (tag, attrs = {}, ...children) => build(document.createElement(tag), attrs, children);
const s = (tag, attrs = {}, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---- time ----

function clock(iso) {
  const at = new Date(iso);
  const time = at.toLocaleTimeString([], { hour12: false });
  return at.toDateString() === new Date().toDateString() ? time : `${at.toLocaleDateString()} ${time}`;
}

function duration(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

// ---- the token: from the fragment (never sent to a server), kept for this tab only ----

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return;
  // Out of the address bar at once: no bookmark, screenshot or shared link carries it.
  history.replaceState(null, '', location.pathname + location.search);
  let token = match[1];
  try {
    token = decodeURIComponent(token);
  } catch {
    // Not percent-encoded after all: take it as it is.
  }
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
}

// ---- talking to the controller ----

class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

class NoSuchEndpoint extends Error {}

async function reason(response) {
  try {
    const body = await response.json();
    if (typeof body?.message === 'string') return body.message;
  } catch {
    // Not our JSON error body (a proxy's page): the status line says enough.
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}

async function api(path, signal) {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const response = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', signal });
  if (response.status === 401 || response.status === 403) throw new Refused(response.status, await reason(response));
  if (response.status === 404) throw new NoSuchEndpoint(await reason(response));
  if (response.status === 204) return null;
  if (!response.ok) throw new Error(await reason(response));
  return response.json();
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

// ---- messages and the token form ----

function say(text, kind = 'alarm') {
  const message = byId('message');
  message.textContent = text;
  message.dataset.kind = kind;
  message.hidden = text === '';
}

function askForToken(text) {
  const form = byId('login');
  form.hidden = false;
  say(text, 'alarm');
  byId('token').focus();
}

function refused(error) {
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  const why = error.status === 403
    ? 'The controller refused this token: it is an agent token. This page needs a viewer token (viewer_tokens_file) or an admin token.'
    : `The controller refused this token (${error.message}). Enter a viewer or admin token.`;
  askForToken(why);
}

// ---- one session: a status loop and an events loop, both ended by stop() ----

let session = null;

function start() {
  stop();
  session = { abort: new AbortController(), wake: null, refresh: false };
  byId('login').hidden = true;
  say('');
  void statusLoop(session);
  void eventsLoop(session);
}

function stop() {
  session?.abort.abort();
  session = null;
}

/** An event changes what the status says: fetch it now rather than at the next tick. */
function refreshSoon(current) {
  current.refresh = true;
  current.wake?.();
}

async function statusLoop(current) {
  const { signal } = current.abort;
  let lastGood = null;
  while (!signal.aborted) {
    current.refresh = false;
    try {
      render(await api('/v1/status', signal));
      lastGood = new Date();
      say('');
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Refused) return refused(error);
      const since = lastGood ? ` The picture below is from ${clock(lastGood.toISOString())}.` : '';
      say(`Cannot read the status from the controller: ${error.message}. Retrying every ${STATUS_EVERY_MS / 1000} s.${since}`);
    }
    if (current.refresh) continue;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, STATUS_EVERY_MS);
      current.wake = () => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', current.wake, { once: true });
    });
    current.wake = null;
  }
}

async function eventsLoop(current) {
  const { signal } = current.abort;
  const panel = byId('events');
  let after = 0;
  let wait = 0; // the first call takes the backlog at once; later ones wait for news
  while (!signal.aborted) {
    try {
      // A hold a dead connection cannot stretch forever: the controller answers within `wait`.
      const bounded = AbortSignal.any([signal, AbortSignal.timeout((wait + 15) * 1000)]);
      const answer = await api(`/v1/events?after=${after}&wait=${wait}`, bounded);
      panel.hidden = false;
      panel.dataset.problem = '';
      if (answer) {
        if (answer.next < after) {
          // Numbering restarted: a new controller process. Take its events from the start.
          showGap('The controller restarted; the events below it are from the previous run.');
        } else if (after > 0 && answer.first > after + 1) {
          showGap(`${answer.first - after - 1} events were dropped here: the controller keeps only the latest.`);
        }
        showEvents(answer.events);
        if (answer.events.length > 0 && wait > 0) refreshSoon(current);
        after = answer.next;
      }
      wait = EVENTS_WAIT_S;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Refused) return refused(error);
      if (error instanceof NoSuchEndpoint) {
        // A controller without GET /v1/events: the page shows the status alone.
        panel.hidden = true;
        return;
      }
      if (error.name !== 'TimeoutError') panel.dataset.problem = 'unreachable';
      await sleep(RETRY_MS, signal);
    }
  }
}

// ---- events ----

function showEvents(events) {
  const list = byId('event-list');
  for (const event of events) {
    const item = h('li', { 'data-seq': event.seq, 'data-level': event.level, 'data-cluster': event.cluster ?? '' },
      h('time', { datetime: event.at }, clock(event.at)),
      event.level === 'warn' ? h('span', { class: 'tag warn' }, 'warn') : null,
      event.cluster ? h('span', { class: 'tag' }, event.cluster) : null,
      h('span', { class: 'text' }, event.message),
    );
    list.prepend(item);
  }
  while (list.children.length > MAX_EVENTS_SHOWN) list.lastElementChild.remove();
}

function showGap(text) {
  byId('event-list').prepend(h('li', { 'class': 'gap', 'data-gap': '' }, text));
}

// ---- the status ----

function render(status) {
  const updated = byId('updated');
  updated.dataset.version = status.version;
  updated.textContent = `mapping version ${status.version}, published ${clock(status.issued_at)} · updated ${clock(new Date().toISOString())}`;
  byId('clusters').replaceChildren(...status.clusters.map((cluster, i) => renderCluster(cluster, i)));
  renderAgents(status);
  const running = status.clusters.some((c) => c.failover.running);
  const masters = status.clusters.map((c) => c.master || 'no master').join(', ');
  document.title = `${running ? 'FAILOVER RUNNING · ' : ''}${masters} · ${status.agents_current}/${status.agents_total} agents · pullover`;
}

const HEALTH_KIND = { 'master-alive': 'ok', 'master-suspect': 'warn' };

function renderCluster(cluster, index) {
  const health = cluster.health;
  const healthKind = health ? (HEALTH_KIND[health.state] ?? 'alarm') : 'unknown';
  return h('section', {
    'class': 'cluster panel',
    'data-cluster': cluster.name,
    'data-master': cluster.master,
    'data-health': health?.state ?? 'unknown',
  },
  h('h2', {}, `Cluster ${cluster.name} `, h('small', {}, cluster.hostnames.join(', '))),
  h('p', { class: 'headline' },
    cluster.master
      ? [h('span', { 'class': 'master-name', 'data-headline-master': '' }, cluster.master), ' is the master']
      : 'No master is published'),
  h('p', { 'class': `health ${healthKind}`, 'data-health-sentence': '' },
    health
      ? [h('span', { class: 'tag' }, health.state), ` ${health.sentence} (since ${clock(health.since)})`]
      : 'The controller has not looked at this cluster yet (or monitoring is off).'),
  banners(cluster),
  topology(cluster, index),
  );
}

function banners(cluster) {
  const out = [];
  const { failover, name } = cluster;
  if (failover.running) {
    out.push(h('p', { 'class': 'banner alarm', 'data-banner': 'failover-running' },
      `A failover of ${name} is running now.`));
  }
  if (failover.blocked_until) {
    out.push(h('p', { 'class': 'banner warn', 'data-banner': 'failover-blocked' },
      `Automatic failover is blocked until ${clock(failover.blocked_until)} (a failover happened recently). `,
      'To re-arm it now: ', h('code', {}, `pullover-controller ack --cluster ${name}`)));
  }
  if (!failover.auto) {
    out.push(h('p', { 'class': 'banner info', 'data-banner': 'failover-manual' },
      'Automatic failover is off for this cluster: a dead master waits for an operator.'));
  }
  return out;
}

// ---- the topology picture ----

const BOX = { w: 250, h: 124, masterW: 300, gapX: 36, gapY: 64, margin: 16 };

/** What a server's box says about it, and one word for its colour. */
function describe(server) {
  const o = server.observed;
  const master = server.role === 'master';
  if (!o) return { state: 'unknown', lines: ['not looked at yet'] };
  if (!o.reachable) return { state: 'unreachable', lines: ['UNREACHABLE', clip(o.error ?? 'no answer', 36)] };
  const ro = o.read_only === null ? 'read_only ?' : (o.read_only ? 'read_only' : 'writable');
  if (master) {
    const lines = [o.read_only ? 'read_only: writes refused' : 'writable'];
    if (o.replicating_from) lines.push(`also replicates from ${o.replicating_from}`);
    return { state: o.read_only ? 'read-only' : 'ok', lines };
  }
  if (!o.replicating_from) return { state: 'detached', lines: ['not replicating', ro] };
  const threads = `IO ${o.io_running ?? '?'} · SQL ${o.sql_running === null ? '?' : (o.sql_running ? 'yes' : 'no')}`;
  const lag = o.lag_s === null ? 'lag unknown' : `lag ${o.lag_s} s`;
  let state = 'ok';
  if (o.io_running === 'no' || o.sql_running === false) state = 'broken';
  else if (o.io_running === 'connecting') state = 'connecting';
  else if (o.read_only === false) state = 'writable';
  else if (o.lag_s === null || o.lag_s > LAGGING_AFTER_S) state = 'lagging';
  return { state, lag, lines: [threads, ro] };
}

/** Rows: the master on top, each replica one row below the server it replicates from. */
function layout(cluster) {
  const byAddress = new Map(cluster.servers.map((server) => [server.address, server]));
  const upstream = new Map();
  for (const server of cluster.servers) {
    const from = byAddress.get(server.observed?.replicating_from ?? '');
    if (from && from !== server) upstream.set(server.name, from);
  }
  const depth = new Map();
  const depthOf = (server, seen = new Set()) => {
    if (depth.has(server.name)) return depth.get(server.name);
    let d = 1;
    if (server.role === 'master') d = 0;
    else if (upstream.has(server.name) && !seen.has(server.name)) {
      seen.add(server.name);
      d = depthOf(upstream.get(server.name), seen) + 1;
    }
    depth.set(server.name, d);
    return d;
  };
  const rows = [];
  for (const server of cluster.servers) (rows[depthOf(server)] ??= []).push(server);
  return { rows: rows.filter(Boolean), upstream };
}

function topology(cluster, index) {
  const { rows, upstream } = layout(cluster);
  const rowWidth = (row) => row.reduce((sum, sv) => sum + boxWidth(sv), 0) + BOX.gapX * (row.length - 1);
  const width = Math.max(...rows.map(rowWidth)) + 2 * BOX.margin;
  const height = rows.length * BOX.h + (rows.length - 1) * BOX.gapY + 2 * BOX.margin;
  const place = new Map();
  rows.forEach((row, r) => {
    let x = (width - rowWidth(row)) / 2;
    for (const server of row) {
      place.set(server.name, { x, y: BOX.margin + r * (BOX.h + BOX.gapY), w: boxWidth(server), row: r });
      x += boxWidth(server) + BOX.gapX;
    }
  });
  const marker = `arrow-${index}`;
  const picture = s('svg', {
    'class': 'topology',
    'viewBox': `0 0 ${width} ${height}`,
    'width': width,
    'height': height,
    'role': 'img',
    'aria-label': `Replication topology of ${cluster.name}`,
  },
  s('defs', {}, s('marker', {
    id: marker, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))),
  );
  for (const server of cluster.servers) {
    const from = upstream.get(server.name);
    if (from) picture.append(arrow(place.get(from.name), place.get(server.name), from, server, marker));
  }
  for (const server of cluster.servers) picture.append(serverBox(server, place.get(server.name)));
  return h('div', { class: 'picture' }, picture);
}

function boxWidth(server) {
  return server.role === 'master' ? BOX.masterW : BOX.w;
}

function arrow(a, b, from, to, marker) {
  // Downwards from the bottom of the source; a replica feeding a server above it points up.
  const down = a.row < b.row;
  const shift = down ? 0 : 14;
  const x1 = a.x + a.w / 2 + shift;
  const y1 = down ? a.y + BOX.h : a.y;
  const x2 = b.x + b.w / 2 + shift;
  const y2 = down ? b.y : b.y + BOX.h;
  const { state } = describe(to);
  return s('path', {
    'd': `M${x1},${y1} L${x2},${y2 - (down ? 2 : -2)}`,
    'class': `arrow ${state}`,
    'marker-end': `url(#${marker})`,
    'data-arrow': '',
    'data-from': from.name,
    'data-to': to.name,
  });
}

function serverBox(server, at) {
  const o = server.observed;
  const { state, lines, lag } = describe(server);
  const master = server.role === 'master';
  const tags = [server.candidate ? 'candidate' : null, server.no_master ? 'no_master' : null].filter(Boolean);
  const group = s('g', {
    'class': `server ${server.role} ${state}`,
    'transform': `translate(${at.x},${at.y})`,
    'data-server': server.name,
    'data-role': server.role,
    'data-state': state,
    'data-lag': o?.lag_s ?? undefined,
    'data-from': o?.replicating_from ?? undefined,
    'data-read-only': o?.read_only ?? undefined,
  },
  s('title', {}, tooltip(server)),
  s('rect', { width: at.w, height: BOX.h, rx: 8, class: 'box' }),
  s('text', { x: 14, y: master ? 36 : 30, class: master ? 'name big' : 'name' }, clip(server.name, master ? 18 : 20)),
  s('text', { x: 14, y: master ? 58 : 50, class: 'role' }, `${master ? 'MASTER' : 'replica'} · ${server.address}`),
  );
  let y = master ? 82 : 74;
  if (lag) {
    group.append(s('text', { 'x': 14, y, 'class': 'lag', 'data-lag-text': '' }, lag));
    y += 20;
  }
  for (const [i, line] of lines.entries()) {
    group.append(s('text', { x: 14, y, class: i === 0 && state === 'unreachable' ? 'line alert' : 'line' }, line));
    y += 18;
  }
  if (tags.length > 0) {
    group.append(s('text', { 'x': at.w - 12, 'y': master ? 58 : 50, 'class': 'tags', 'text-anchor': 'end' }, tags.join(' · ')));
  }
  return group;
}

function tooltip(server) {
  const o = server.observed;
  const facts = [`${server.name} (${server.address}), ${server.role}`];
  if (o) {
    facts.push(`looked at ${clock(o.at)}`, `reachable: ${o.reachable ? 'yes' : 'no'}`);
    if (o.replicating_from) facts.push(`replicates from ${o.replicating_from}`);
    if (o.gtid) facts.push(`GTID ${o.gtid}`);
    if (o.error) facts.push(o.error);
  }
  return facts.join('\n');
}

// ---- agents ----

function agentState(agent) {
  if (agent.last_report_age_s > SILENT_AFTER_S) return 'stale';
  return agent.current ? 'current' : 'behind';
}

const AGENT_ORDER = { stale: 0, behind: 1, current: 2 };

function renderAgents(status) {
  const panel = byId('agents');
  panel.hidden = false;
  const agents = status.agents
    .map((agent) => ({ agent, state: agentState(agent) }))
    .sort((a, b) => AGENT_ORDER[a.state] - AGENT_ORDER[b.state] || a.agent.name.localeCompare(b.agent.name));
  const summary = byId('agents-summary');
  const waiting = agents.filter((a) => a.state !== 'current');
  summary.dataset.current = status.agents_current;
  summary.dataset.total = status.agents_total;
  summary.dataset.kind = status.agents_total === 0 ? 'unknown' : (waiting.length === 0 ? 'ok' : 'warn');
  const count = `${status.agents_current} of ${status.agents_total} agents on version ${status.version}.`;
  let more;
  if (status.agents_total === 0) more = ' No agent has reported yet.';
  else if (waiting.length === 0) more = ' Every app server has switched.';
  else {
    const names = waiting.slice(0, 8).map(({ agent, state }) =>
      state === 'stale' ? `${agent.name} (silent ${duration(agent.last_report_age_s)})` : `${agent.name} (on ${agent.applied_version})`);
    more = ` Waiting for ${names.join(', ')}${waiting.length > 8 ? ` and ${waiting.length - 8} more` : ''}.`;
  }
  summary.replaceChildren(h('strong', { 'data-agents-count': '' }, count), more);
  const shown = agents.slice(0, MAX_AGENTS_SHOWN).map(({ agent, state }) => agentBox(agent, state));
  if (agents.length > MAX_AGENTS_SHOWN) {
    shown.push(h('p', { class: 'more' }, `… and ${agents.length - MAX_AGENTS_SHOWN} more, all on version ${status.version}.`));
  }
  byId('agent-list').replaceChildren(...shown);
}

function agentBox(agent, state) {
  const blind = agent.masters.filter((m) => !m.reachable);
  const words = { current: 'current', behind: `behind: version ${agent.applied_version}`, stale: `silent ${duration(agent.last_report_age_s)}` };
  const details = [
    `${agent.name} at ${agent.remote_address}`,
    `applied version ${agent.applied_version}`,
    `last report ${clock(agent.last_report_at)} (${duration(agent.last_report_age_s)} ago)`,
    `hosts file ${agent.hosts_file}`,
    ...agent.masters.map((m) => `${m.cluster} master ${m.address}: ${m.detail}`),
    ...(agent.error ? [agent.error] : []),
  ];
  return h('div', {
    'class': `agent ${state}`,
    'data-agent': agent.name,
    'data-state': state,
    'data-version': agent.applied_version,
    'title': details.join('\n'),
  },
  h('span', { class: 'agent-name' }, clip(agent.name, 24)),
  h('span', { class: 'agent-version' }, `v${agent.applied_version} · ${words[state]}`),
  blind.length > 0 ? h('span', { 'class': 'agent-problem', 'data-blind': '' }, 'cannot reach the master') : null,
  agent.error ? h('span', { 'class': 'agent-problem', 'data-error': '' }, clip(agent.error, 40)) : null,
  );
}

// ---- start ----

byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId('token');
  const token = input.value.trim();
  input.value = '';
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});

window.addEventListener('hashchange', () => {
  if (!/(?:^#|&)token=/.test(location.hash)) return;
  takeTokenFromFragment();
  start();
});

takeTokenFromFragment();
if (sessionStorage.getItem(TOKEN_KEY)) start();
else askForToken('');
