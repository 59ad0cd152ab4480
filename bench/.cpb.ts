// Quick A/B: CPU time per request of the server process, robust to other load.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { v7 } from 'uuid';
const root = '/work/main';
const dataDir = mkdtempSync(path.join(tmpdir(), 'cpb-'));
const key = execFileSync(process.execPath, ['dist/cli/main.js', 'keys', 'create', '--data-dir', dataDir], { cwd: root }).toString().trim();
const body = JSON.stringify({ prompt: 'a paper boat drifting down a rainy street', size: '1280*720', duration: 5, seed: 7 });
const db = new Database(path.join(dataDir, 'wan.db'));
const keyId = db.prepare('SELECT id FROM api_keys WHERE prefix = ?').pluck().get(key.slice(0, 12));
const ids = Array.from({ length: 200000 }, () => v7()); const now = Date.now();
const ins = db.prepare(`INSERT INTO tasks (id, key_id, model, status, request_json, seed, results_json, extra_json, created_at, started_at, completed_at, progress_percent, version) VALUES (?, ?, 'wan2.7-t2v', 'TASK_STATUS_SUCCEED', ?, 7, ?, '{}', ?, ?, ?, 100, 3)`);
db.transaction(() => { for (const id of ids) ins.run(id, keyId, body, JSON.stringify([{ key: `videos/${id}/0.mp4`, type: 'mp4' }]), now, now + 5, now + 60000); })();
db.pragma('wal_checkpoint(TRUNCATE)'); db.close();
const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : []), 'dist/cli/main.js', 'serve', '--port', '47950', '--data-dir', dataDir, '--worker-concurrency', '0', '--max-queued-tasks', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => child.stdout!.on('data', (d) => String(d).includes('listening') && r(null)));
const cpu = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
let state = 12345; const rnd = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648; };
const cases: Record<string, autocannon.Options> = {
  hot: { url: `http://127.0.0.1:47950/v3/async/task-result?task_id=${ids[0]}`, headers },
  random: { url: 'http://127.0.0.1:47950', headers, requests: [{ setupRequest: (r: any) => { r.path = `/v3/async/task-result?task_id=${ids[Math.floor(rnd() * ids.length)]}`; return r; } }] },
  submit: { url: 'http://127.0.0.1:47950/v3/async/wan2.7-t2v', method: 'POST', headers, body },
};
for (const name of (process.env.CASES ?? 'hot,random,submit').split(',')) {
  await autocannon({ ...cases[name], connections: 32, duration: 2 });
  const out = [];
  for (let i = 0; i < 3; i++) {
    const before = cpu();
    const r = await autocannon({ ...cases[name], connections: 32, duration: 4 });
    const used = cpu() - before;
    out.push(`${Math.round(r.requests.average)} req/s ${(used * 1000 / r.requests.total).toFixed(1)} us/req${r.non2xx ? ` non2xx ${r.non2xx}` : ''}`);
  }
  console.log(name, '|', out.join(' | '));
}
child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r));
