// The commands that only read a running controller: a viewer token is enough for them.
import { followEvents } from '../follow.js';
import { formatHistory } from '../history-table.js';
import { formatLeader } from '../leader-table.js';
import { formatEvent } from '../progress.js';
import { JSON_OUTPUT, remote } from '../spec.js';
import { formatStatus } from '../status-table.js';

export const STATUS = remote({
  summary: 'masters, server health, failover block, which agents have caught up',
  options: JSON_OUTPUT,
  examples: ['status --config /etc/pullover/controller.yaml'],
  build: (values) => ({ json: values.json }),
  call: async (client, { json }, io) => {
    const status = await client.status();
    io.out(json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return 0;
  },
});

export const HISTORY = remote({
  summary: 'past failovers, each step with its duration',
  options: JSON_OUTPUT,
  examples: ['history --url https://ctl1.internal:7420 --token-file ~/.pullover-viewer-token'],
  build: (values) => ({ json: values.json }),
  call: async (client, { json }, io) => {
    const history = await client.history();
    io.out(json ? JSON.stringify(history, null, 2) : formatHistory(history));
    return 0;
  },
});

export const EVENTS = remote({
  summary: 'what the controller decided and did, one line each; live with --follow',
  options: {
    cluster: { type: 'string', arg: 'CLUSTER', help: 'only this cluster\'s events (and those of no cluster)' },
    follow: { type: 'boolean', short: 'f', help: 'keep printing them as they happen, across controller restarts, until Ctrl-C' },
    json: { type: 'boolean', help: 'one JSON object per event, not a sentence' },
  },
  examples: ['events --follow --url https://ctl1.internal:7420 --token-file ~/.pullover-viewer-token'],
  build: (values) => ({ cluster: values.cluster, follow: values.follow, json: values.json }),
  /** With --follow, until Ctrl-C or SIGTERM: how an operator stops following, so exit 0, not a failure. */
  call: async (client, command, io) => {
    const stop = new AbortController();
    const interrupted = () => stop.abort();
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    try {
      await followEvents(client, {
        cluster: command.cluster,
        follow: command.follow,
        signal: stop.signal,
        print: (event) => io.out(command.json ? JSON.stringify(event) : formatEvent(event, true)),
        note: io.err,
      });
      return 0;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
  },
});

export const LEADER = remote({
  summary: 'which controller leads (several sharing etcd), its term, and every controller\'s role; exit 1 while none leads',
  options: JSON_OUTPUT,
  examples: [
    'leader --url https://ctl1:7420,https://ctl2:7420,https://ctl3:7420 --token-file ~/.pullover-viewer-token',
    'leader --json --config /etc/pullover/controller.yaml',
  ],
  build: (values) => ({ json: values.json }),
  call: async (client, { json }, io) => {
    const answer = await client.leader();
    io.out(json ? JSON.stringify(answer, null, 2) : formatLeader(answer));
    return answer.mode === 'single' || answer.leader !== null ? 0 : 1;
  },
});
