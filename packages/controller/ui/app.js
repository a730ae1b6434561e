// The pullover status page. It reads GET /v1/status (every 2 s) and GET /v1/events (long-polled)
// with a viewer or admin token and draws them. No framework and no build step: this file is
// served as it is. Everything from the controller reaches the DOM through textContent and
// attributes, never as markup: an event sentence can quote whatever a hostile client sent.

import { renderAgents } from './agents.js';
import { clock, h } from './dom.js';
import { topology } from './topology.js';

const TOKEN_KEY = 'pullover.token';
const STATUS_EVERY_MS = 2000;
const EVENTS_WAIT_S = 25;
const RETRY_MS = 2000;
const MAX_EVENTS_SHOWN = 200;

const byId = (id) => document.getElementById(id);

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

function say(text) {
  const message = byId('message');
  message.textContent = text;
  message.hidden = text === '';
}

function askForToken(text) {
  byId('login').hidden = false;
  say(text);
  byId('token').focus();
}

function refused(error) {
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  // A revoked token must not leave the last picture on a screen as if it were current.
  byId('clusters').replaceChildren();
  byId('event-list').replaceChildren();
  byId('agents').hidden = true;
  byId('events').hidden = true;
  document.title = 'pullover status';
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
    let status = null;
    try {
      status = await api('/v1/status', signal);
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Refused) return refused(error);
      const since = lastGood ? ` The picture below is from ${clock(lastGood.toISOString())}.` : '';
      say(`Cannot read the status from the controller: ${error.message}. Retrying every ${STATUS_EVERY_MS / 1000} s.${since}`);
    }
    if (status) {
      try {
        render(status);
        lastGood = new Date();
        say('');
      } catch (error) {
        // Not the controller's fault: say so, or an operator goes looking for a network problem.
        say(`The controller answered, but this page failed to draw it (a bug in the page): ${error.message}`);
      }
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
  renderAgents(status, byId('agents'));
  renderControllers(status.controllers, byId('controllers'));
  const running = status.clusters.some((c) => c.failover.running);
  const masters = status.clusters.map((c) => c.master || 'no master').join(', ');
  document.title = `${running ? 'FAILOVER RUNNING · ' : ''}${masters} · ${status.agents_current}/${status.agents_total} agents · pullover`;
}

/** On etcd: each controller, its role, and the term of the leader; alone, one line. */
function renderControllers(view, where) {
  where.hidden = !view;
  if (!view) return;
  const term = view.leader ? `term ${view.leader.term}` : 'no leader right now';
  const stale = view.self.etcd_reachable || view.mode === 'single' ? [] : [h('span', { class: 'alarm' }, ' · this controller cannot reach etcd: what it shows may be stale')];
  const summary = view.mode === 'single'
    ? `${view.self.name} acts alone (one controller, its state dir)`
    : `${view.controllers.length} controller(s) on etcd, ${term}; this page is served by ${view.self.name} (${view.self.role})`;
  where.replaceChildren(
    h('h2', {}, 'Controllers'),
    h('p', { 'class': 'summary', 'data-controllers-summary': '' }, summary, ...stale),
    h('ul', { class: 'controller-list' }, ...view.controllers.map((c) =>
      h('li', { 'data-controller': c.name, 'data-role': c.role }, `${c.name} · ${c.role} · ${c.url}`))),
  );
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
  if (failover.paused_until) {
    const why = failover.pause_reason ? ` (${failover.pause_reason})` : '';
    out.push(h('p', { 'class': 'banner warn', 'data-banner': 'failover-paused' },
      `Automatic failover is paused until ${clock(failover.paused_until)}${why}. `,
      'To re-arm it now: ', h('code', {}, `pullover-controller resume --cluster ${name}`)));
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
