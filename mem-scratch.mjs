import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startController, parseConfig } from '@pullover/controller';
const dir = mkdtempSync(join(tmpdir(), 'mem-'));
const AG = 'agent-token-0123456789abcdef', AD = 'admin-token-0123456789abcdef';
const doc = { listen: '127.0.0.1:0', state_dir: join(dir, 'state'), auth: { agent_tokens_file: 'a', admin_tokens_file: 'b' },
  clusters: [{ name: 'myservice', master_hostnames: ['mysql-master.myservice.com'], mysql: { user: 'u', password_file: 'p', replication_user: 'r', replication_password_file: 'q' },
   servers: [{ name: 'mysql1', address: '10.0.0.1' }, { name: 'mysql2', address: '10.0.0.2' }] }] };
const config = { ...parseConfig(doc, join(dir, 'c.yaml')), secrets: { agent_tokens: [AG], admin_tokens: [AD] } };
const c = await startController(config, { logger: false });
const base = process.memoryUsage().rss;
const N = 10000;
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let got = 0; const started = [];
const url = new URL(c.url);
for (let i = 0; i < N; i++) {
  const req = http.get({ host: url.hostname, port: url.port, path: '/v1/mapping?after=1&wait=60', agent, headers: { authorization: `Bearer ${AG}` } }, (res) => { res.resume(); res.on('end', () => { got++; }); });
  req.on('error', (e) => { console.error('err', e.message); });
}
while (c.publisher.parked < N) { await new Promise(r => setTimeout(r, 200)); }
global.gc?.();
const rss = process.memoryUsage().rss;
console.log('parked', c.publisher.parked, 'rss MB (server+clients in one process)', (rss/1e6).toFixed(0), 'delta', ((rss-base)/1e6).toFixed(0), 'heap', (process.memoryUsage().heapUsed/1e6).toFixed(0));
const t0 = Date.now();
const r = await fetch(`${c.url}/v1/clusters/myservice/set-master`, { method: 'POST', headers: { authorization: `Bearer ${AD}`, 'content-type': 'application/json' }, body: JSON.stringify({ server: 'mysql2' }) });
console.log('set-master', r.status);
while (got < N) await new Promise(r => setTimeout(r, 5));
console.log('all', N, 'answered in', Date.now() - t0, 'ms');
agent.destroy();
await c.close();
