/** The baseline workload: bare node:http serving one fixed SCIM user, the yardstick for every req/s. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CONNECTIONS } from '../lib/config.mjs';
import { fmtInt, fmtLatencyCpu, log } from '../lib/format.mjs';
import { problems, warmThenMeasure } from '../lib/load.mjs';
import { startBaseline } from '../lib/servers.mjs';

/** The baseline: bare node:http answering `doc` (a user as Rollcall returned it). */
export async function measureBaseline(doc, reqPath, auth) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rollcall-bench-doc-'));
  let b;
  try {
    const docFile = path.join(tmp, 'user.json');
    await writeFile(docFile, doc);
    b = await startBaseline(docFile); // it has read the file once it listens
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  try {
    log(`\nBaseline: bare node:http answering a fixed ${Buffer.byteLength(doc)}-byte SCIM user document`);
    const base = { url: b.url, connections: CONNECTIONS, headers: auth, requests: [{ method: 'GET', path: reqPath }] };
    const r = await warmThenMeasure([base], { pids: [b.pid] });
    const bad = problems(r);
    if (bad) throw new Error(`baseline: ${bad}`);
    log(`baseline                           ${fmtInt(r.reqPerSec)} req/s, ${fmtLatencyCpu(r)}`);
    return { reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, cpuUsPerReq: r.cpuUsPerReq, docBytes: Buffer.byteLength(doc) };
  } finally {
    await b.stop();
  }
}
