// The app servers' agents: who is on the current mapping version, who is behind, who went silent.

import { clip, clock, duration, h } from './dom.js';

/** An agent reports at least every check_interval (10 s by default) and on every poll: a minute of silence is news. */
const SILENT_AFTER_S = 60;
const MAX_AGENTS_SHOWN = 300;

function agentState(agent) {
  if (agent.last_report_age_s > SILENT_AFTER_S) return 'stale';
  return agent.current ? 'current' : 'behind';
}

const AGENT_ORDER = { stale: 0, behind: 1, current: 2 };

/** Fills the agents panel: the count sentence, then a box per agent, problems first. */
export function renderAgents(status, panel) {
  panel.hidden = false;
  const agents = status.agents
    .map((agent) => ({ agent, state: agentState(agent) }))
    .sort((a, b) => AGENT_ORDER[a.state] - AGENT_ORDER[b.state] || a.agent.name.localeCompare(b.agent.name));
  const summary = panel.querySelector('[data-agents-summary]');
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
  const unbound = status.agents.filter((a) => !a.bound).length;
  const unboundText = ` ${unbound} unbound (a token line without an agent name): their reports never veto a failover.`;
  const unboundNote = unbound === 0 ? [] : [h('span', { 'data-unbound-count': unbound }, unboundText)];
  summary.replaceChildren(h('strong', { 'data-agents-count': '' }, count), more, ...unboundNote);
  // A report names the master the agent last checked; right after a failover that is the old one.
  const masters = new Set(status.clusters.map((c) => `${c.name} ${c.servers.find((sv) => sv.name === c.master)?.address}`));
  const shown = agents.slice(0, MAX_AGENTS_SHOWN).map(({ agent, state }) => agentBox(agent, state, masters));
  const hidden = agents.slice(MAX_AGENTS_SHOWN);
  if (hidden.length > 0) {
    // Problems sort first, so the boxes left out are the current ones unless there are many problems.
    const current = hidden.filter((a) => a.state === 'current').length;
    const which = current === hidden.length ? 'all current' : `${current} of them current`;
    shown.push(h('p', { class: 'more' }, `… and ${hidden.length} more agents, ${which}.`));
  }
  panel.querySelector('.agent-list').replaceChildren(...shown);
}

function agentBox(agent, state, masters) {
  const blind = agent.masters.filter((m) => !m.reachable && masters.has(`${m.cluster} ${m.address}`));
  const words = { current: 'current', behind: `behind: version ${agent.applied_version}`, stale: `silent ${duration(agent.last_report_age_s)}` };
  const details = [
    `${agent.name} at ${agent.remote_address}${agent.bound ? '' : ', unbound: its token line names no agent, so it never vetoes a failover'}`,
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
    'data-bound': String(agent.bound),
    'title': details.join('\n'),
  },
  h('span', { class: 'agent-name' }, clip(agent.name, 24)),
  h('span', { class: 'agent-version' }, `v${agent.applied_version} · ${words[state]}`),
  agent.bound ? null : h('span', { 'class': 'agent-unbound', 'data-unbound': '' }, 'unbound'),
  blind.length > 0 ? h('span', { 'class': 'agent-problem', 'data-blind': '' }, 'cannot reach the master') : null,
  agent.error ? h('span', { 'class': 'agent-problem', 'data-error': '' }, clip(agent.error, 40)) : null,
  );
}
