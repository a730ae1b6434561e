// The replication topology of one cluster as an SVG picture: the master on top, each replica
// one row below the server it replicates from, an arrow from that server to it.

import { clip, clock, h, s } from './dom.js';

/** Replication further behind than this is drawn as lagging. */
const LAGGING_AFTER_S = 30;

const BOX = { w: 250, h: 124, masterW: 300, gapX: 36, gapY: 64, margin: 16 };

/** What a server's box says about it, and one word for its colour. */
function describe(server) {
  const o = server.observed;
  const master = server.role === 'master';
  if (!o) return { state: 'unknown', lines: ['not looked at yet'] };
  if (!o.reachable) {
    const error = (o.error ?? 'no answer').replace(`${server.name}: `, '');
    return { state: 'unreachable', lines: ['UNREACHABLE', clip(error, 34)] };
  }
  const ro = o.read_only === null ? 'read_only ?' : (o.read_only ? 'read_only' : 'writable');
  if (master) {
    const lines = [o.read_only ? 'read_only: writes refused' : 'writable'];
    if (o.gtid) lines.push(`GTID ${clip(o.gtid, 30)}`);
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
  // A stopped thread's error says more than read_only does.
  return { state, lag, lines: [threads, state === 'broken' && o.error ? clip(o.error, 30) : ro] };
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

export function topology(cluster, index) {
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
  cluster.servers.forEach((server, i) => picture.append(serverBox(server, place.get(server.name), `clip-${index}-${i}`)));
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

function serverBox(server, at, clipId) {
  const o = server.observed;
  const { state, lines, lag } = describe(server);
  const master = server.role === 'master';
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
  s('clipPath', { id: clipId }, s('rect', { width: at.w - 10, height: BOX.h })),
  s('rect', { width: at.w, height: BOX.h, rx: 8, class: 'box' }),
  );
  // Text past the box's edge is cut, not drawn over its neighbour: names and errors can be long.
  const text = s('g', { 'clip-path': `url(#${clipId})` },
    s('text', { x: 14, y: master ? 38 : 32, class: master ? 'name big' : 'name' }, clip(server.name, master ? 16 : 18)),
    s('text', { x: 14, y: master ? 60 : 52, class: 'role' }, `${master ? 'MASTER' : 'replica'} · ${server.address}`),
  );
  let y = master ? 84 : 76;
  if (lag) {
    text.append(s('text', { 'x': 14, y, 'class': 'lag', 'data-lag-text': '' }, lag));
    y += 20;
  }
  for (const [i, line] of lines.entries()) {
    const kind = state !== 'unreachable' ? 'line' : (i === 0 ? 'line alert' : 'line small');
    text.append(s('text', { x: 14, y, class: kind }, line));
    y += 18;
  }
  group.append(text);
  // Badges sit on the top edge, right-aligned: they never collide with a text line.
  let right = at.w - 10;
  const tags = [server.no_master ? 'no_master' : null, server.candidate ? 'candidate' : null, server.fenced ? 'fenced' : null];
  for (const tag of tags) {
    if (!tag) continue;
    const width = tag.length * 8 + 16;
    right -= width;
    group.append(s('g', { 'class': 'badge', 'transform': `translate(${right},-11)`, 'data-tag': tag },
      s('rect', { width, height: 22, rx: 11 }),
      s('text', { 'x': width / 2, 'y': 15.5, 'text-anchor': 'middle' }, tag)));
    right -= 6;
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
