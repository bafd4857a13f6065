/**
 * Google Workspace sync throughput: a full sync of BENCH_GOOGLE_USERS users (default
 * 10,000; 500 a page, as Google pages them) and 20 groups from a local fake of the
 * Directory API (test/sources/google-workspace/fake-google.mjs), through Google's
 * real client libraries, into a fresh SQLite file (or the database BENCH_GOOGLE_DATABASE_URL
 * names). Needs `npm run build` (it runs dist/).
 *
 *   node bench/workloads/google-sync.mjs      prints one JSON line
 *
 * googleSyncRun() answers { users, seconds, perSec } for the full sync, plus the
 * quiet re-run (nothing changed at Google, nothing written) as quietSeconds. The
 * provisioning log is on (every write is an entry), as on a server; with
 * BENCH_GOOGLE_REQUEST_LOG=off it is not.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRollcall } from '../../dist/rollcall.js';
import { googleGroup, googleUser, serviceAccountKey, startFakeGoogle } from '../../test/sources/google-workspace/fake-google.mjs';

const ADMIN = 'admin@example.com';

export async function googleSyncRun({ users = Number(process.env.BENCH_GOOGLE_USERS ?? 10_000), groups = 20, databaseUrl = process.env.BENCH_GOOGLE_DATABASE_URL } = {}) {
  const key = serviceAccountKey();
  const fake = await startFakeGoogle({ publicKey: key.publicKey, clientEmail: key.key.client_email, adminEmail: ADMIN });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollcall-bench-google-'));
  for (let i = 0; i < users; i++) {
    const u = googleUser(i);
    fake.state.users.set(u.id, u);
  }
  const all = [...fake.state.users.values()];
  for (let g = 0; g < groups; g++) {
    const group = googleGroup(g);
    fake.state.groups.set(group.id, group);
    fake.state.members.set(group.id, all.filter((_, i) => i % groups === g).map((u) => ({ id: u.id, email: u.primaryEmail, type: 'USER', role: 'MEMBER', status: 'ACTIVE' })));
  }
  const quiet = { error: () => {}, warn: () => {}, info: () => {} };
  const rc = await createRollcall({
    databaseUrl: databaseUrl ?? `sqlite:${path.join(dir, 'rollcall.db')}`,
    publicUrl: 'https://rollcall.bench.example',
    secretKey: randomBytes(32),
    // The provisioning log on, as a server has it (BENCH_GOOGLE_REQUEST_LOG=off leaves it out).
    requestLog: { enabled: process.env.BENCH_GOOGLE_REQUEST_LOG !== 'off' },
    logger: quiet,
    sources: { googleWorkspace: { rootUrl: fake.rootUrl, tokenUrl: fake.tokenUrl } },
  });
  try {
    const conn = await rc.sources.createGoogleWorkspace({ name: 'Bench', key: key.text, adminEmail: ADMIN, domain: 'example.com' });
    const t0 = performance.now();
    const run = await rc.sources.sync(conn.id);
    const seconds = (performance.now() - t0) / 1000;
    if (run.status !== 'succeeded' || run.counts.usersCreated !== users) throw new Error(`the sync did not create every user: ${JSON.stringify(run)}`);
    const t1 = performance.now();
    const again = await rc.sources.sync(conn.id);
    const quietSeconds = (performance.now() - t1) / 1000;
    if (again.counts.usersUnchanged !== users) throw new Error(`the quiet re-run wrote users: ${JSON.stringify(again.counts)}`);
    return { users, seconds: Number(seconds.toFixed(2)), perSec: Math.round(users / seconds), quietSeconds: Number(quietSeconds.toFixed(2)), requests: run.counts.requests };
  } finally {
    await rc.close();
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await googleSyncRun()));
}
