/**
 * An Entra ID-shaped provisioning cycle, as a client: what the provisioning service
 * sends, with a handful of requests in flight, and a check of what the server kept.
 *
 *  initial cycle  every user: GET /Users?filter=userName eq "…" and, when nothing is
 *                 found, POST /Users; every group: GET /Groups?filter=displayName eq
 *                 "…"&excludedAttributes=members and, when nothing is found, POST
 *                 /Groups (no members); then the members in PATCH batches of 50
 *                 ({"op":"Add","path":"members","value":[…]});
 *  incremental    10 % of the users updated (lookup, then a PATCH of Replace ops), 5 %
 *                 deactivated (lookup, then {"op":"Replace","path":"active","value":"False"}).
 *
 * Used by the bench (bench/workloads/cycle.mjs, against Rollcall and against the null
 * server as the ceiling) and by test/bench/entra-cycle.test.ts, which checks that
 * verifyCycle finds every user and member, and notices when one is missing.
 * Plain node:http with a keep-alive agent: the client must cost little, since its
 * ceiling is what the server is compared with.
 */
import http from 'node:http';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Support', 'Marketing', 'Legal', 'Operations'];
export const MEMBER_BATCH = 50;
/** The request kinds reported one by one. */
export const KINDS = ['lookup user', 'create user', 'lookup group', 'create group', 'add members', 'update user', 'deactivate user'];

/**
 * Who the cycle provisions: `users` users in `groups` groups (user n in group n mod
 * groups), the updated ones (n mod 10 = 3) and the deactivated ones (n mod 20 = 7).
 * `prefix` keeps cycles on one connection apart.
 */
export function cyclePlan({ users, groups, prefix = 'cycle' }) {
  const list = [];
  for (let n = 0; n < users; n++) {
    const id = String(n).padStart(7, '0');
    list.push({ n, userName: `${prefix}.${id}@example.com`, externalId: `${prefix}-ext-${id}`, group: n % groups, updated: n % 10 === 3, deactivated: n % 20 === 7 });
  }
  const gs = [];
  for (let g = 0; g < groups; g++) gs.push({ g, displayName: `${prefix} group ${g}`, externalId: `${prefix}-grp-${g}` });
  return { prefix, users: list, groups: gs };
}

export function createBody(u) {
  const id = u.userName.slice(0, u.userName.indexOf('@'));
  return {
    schemas: [CORE, ENTERPRISE],
    externalId: u.externalId,
    userName: u.userName,
    active: true,
    displayName: `Given ${id} Family`,
    name: { formatted: `Given ${id} Family`, givenName: `Given ${id}`, familyName: 'Family' },
    emails: [{ primary: true, type: 'work', value: u.userName }],
    title: 'Engineer',
    [ENTERPRISE]: { employeeNumber: String(u.n), department: DEPARTMENTS[u.n % DEPARTMENTS.length] },
  };
}

const UPDATED_TITLE = 'Senior Engineer';
const UPDATED_DEPARTMENT = 'Research';

function updateBody() {
  return {
    schemas: [PATCH_OP],
    Operations: [
      { op: 'Replace', path: 'title', value: UPDATED_TITLE },
      { op: 'Replace', path: `${ENTERPRISE}:department`, value: UPDATED_DEPARTMENT },
    ],
  };
}

const deactivateBody = () => ({ schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });

/**
 * A SCIM client for one connection: `request(kind, method, path, body)` resolves to
 * { status, json, ms } and records the latency under `kind`; transport errors reject.
 */
export function scimClient({ origin, api, token, inFlight }) {
  const url = new URL(origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight, maxFreeSockets: inFlight });
  const stats = Object.fromEntries(KINDS.map((k) => [k, { latencies: [], non2xx: 0, errors: 0, firstBad: [] }]));
  const request = (kind, method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
      const headers = { authorization: `Bearer ${token}`, accept: 'application/scim+json' };
      if (payload) {
        headers['content-type'] = 'application/scim+json';
        headers['content-length'] = String(payload.length);
      }
      const t0 = process.hrtime.bigint();
      const req = http.request({ host: url.hostname, port: url.port, method, path: `${api}${path}`, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          if (text) {
            try {
              json = JSON.parse(text);
            } catch {
              json = null;
            }
          }
          const s = stats[kind];
          if (s) {
            if (res.statusCode >= 200 && res.statusCode < 300) s.latencies.push(ms);
            else {
              s.non2xx++;
              if (s.firstBad.length < 3) s.firstBad.push(`${res.statusCode} ${text.slice(0, 200)}`);
            }
          }
          resolve({ status: res.statusCode, json, ms });
        });
        res.on('error', reject);
      });
      req.on('error', (e) => {
        if (stats[kind]) stats[kind].errors++;
        reject(e);
      });
      if (payload) req.end(payload);
      else req.end();
    });
  return { request, stats, close: () => agent.destroy() };
}

/** Runs `fn` over `items` with at most `inFlight` at once; stops taking new items once `stop()` says so. */
async function pool(items, inFlight, fn, stop = () => false) {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

const q = (s) => encodeURIComponent(s);
const userLookup = (u) => `/Users?filter=${q(`userName eq "${u.userName}"`)}`;
const groupLookup = (g) => `/Groups?excludedAttributes=members&filter=${q(`displayName eq "${g.displayName}"`)}`;

function expectStatus(r, ok, what) {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.json)?.slice(0, 300)}`);
}

/** Finds a user by userName (as Entra matches): its id, or null when there is none. */
async function findUser(client, u, kind = 'lookup user') {
  const r = await client.request(kind, 'GET', userLookup(u));
  expectStatus(r, [200], `lookup ${u.userName}`);
  return r.json?.Resources?.[0]?.id ?? null;
}

/**
 * The initial cycle for `users` (default: all of the plan's) then, unless
 * `usersOnly`, the groups and their members. Returns the ids it learned
 * (ids.users: n → id, ids.groups: g → id). `onCreated(count)` sees every
 * acknowledged user; `stop()` ends the user phase early (the bench kills the server so).
 * A request that fails rejects the cycle: as with an IdP, the next cycle resumes.
 */
export async function initialCycle(client, plan, { inFlight, users = plan.users, usersOnly = false, ids = { users: new Map(), groups: new Map() }, onCreated, stop } = {}) {
  let acknowledged = 0;
  await pool(
    users,
    inFlight,
    async (u) => {
      let id = await findUser(client, u);
      if (!id) {
        const r = await client.request('create user', 'POST', '/Users', createBody(u));
        if (r.status === 409) id = await findUser(client, u); // created by an earlier attempt meanwhile
        else {
          expectStatus(r, [201], `create ${u.userName}`);
          id = r.json.id;
        }
      }
      ids.users.set(u.n, id);
      onCreated?.(++acknowledged);
    },
    stop,
  );
  if (usersOnly || stop?.()) return ids;
  await pool(plan.groups, inFlight, async (g) => {
    const found = await client.request('lookup group', 'GET', groupLookup(g));
    expectStatus(found, [200], `lookup ${g.displayName}`);
    let id = found.json?.Resources?.[0]?.id;
    if (!id) {
      const r = await client.request('create group', 'POST', '/Groups', { schemas: [GROUP], displayName: g.displayName, externalId: g.externalId });
      expectStatus(r, [201], `create ${g.displayName}`);
      id = r.json.id;
    }
    ids.groups.set(g.g, id);
  });
  const batches = [];
  for (const g of plan.groups) {
    const members = plan.users.filter((u) => u.group === g.g).map((u) => ids.users.get(u.n));
    for (let i = 0; i < members.length; i += MEMBER_BATCH) batches.push({ group: ids.groups.get(g.g), members: members.slice(i, i + MEMBER_BATCH) });
  }
  await pool(batches, inFlight, async (b) => {
    const r = await client.request('add members', 'PATCH', `/Groups/${b.group}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: b.members.map((value) => ({ value })) }],
    });
    expectStatus(r, [200, 204], `add members to ${b.group}`);
  });
  return ids;
}

/** The incremental cycle: the plan's updated and deactivated users, each looked up first. */
export async function incrementalCycle(client, plan, { inFlight }) {
  const changed = plan.users.filter((u) => u.updated || u.deactivated);
  await pool(changed, inFlight, async (u) => {
    const id = await findUser(client, u);
    if (!id) throw new Error(`incremental cycle: ${u.userName} not found`);
    const [kind, body] = u.updated ? ['update user', updateBody()] : ['deactivate user', deactivateBody()];
    const r = await client.request(kind, 'PATCH', `/Users/${id}`, body);
    expectStatus(r, [200, 204], `${kind} ${u.userName}`);
  });
}

/** What a user should look like after the cycles run (`incremental`: after the incremental one too). */
function expectedUser(u, incremental) {
  const b = createBody(u);
  return {
    userName: b.userName,
    externalId: b.externalId,
    active: !(incremental && u.deactivated),
    givenName: b.name.givenName,
    email: u.userName,
    title: incremental && u.updated ? UPDATED_TITLE : b.title,
    department: incremental && u.updated ? UPDATED_DEPARTMENT : b[ENTERPRISE].department,
  };
}

function actualUser(doc) {
  return {
    userName: doc.userName,
    externalId: doc.externalId,
    active: doc.active,
    givenName: doc.name?.givenName,
    email: doc.emails?.[0]?.value,
    title: doc.title,
    department: doc[ENTERPRISE]?.department,
  };
}

/**
 * What the server kept, checked through its SCIM API (not timed):
 *  - every planned user found by `userName eq` exactly once, and the connection holds
 *    exactly the plan's users (`totalResults`): none missing, none duplicated;
 *  - `sample` users spread over the plan read by id and compared field by field
 *    (after the incremental cycle when `incremental`);
 *  - every group found once by displayName and read by id with all its planned members.
 * Returns counts and the first problems; `ok` when there are none.
 */
export async function verifyCycle(client, plan, { inFlight = 8, sample = 200, incremental = false, groups = true } = {}) {
  const problems = [];
  const note = (p) => {
    if (problems.length < 20) problems.push(p);
  };
  const ids = new Map();
  let found = 0;
  await pool(plan.users, inFlight, async (u) => {
    const r = await client.request('verify', 'GET', userLookup(u));
    const n = r.json?.totalResults ?? 0;
    if (r.status !== 200) note(`lookup ${u.userName}: HTTP ${r.status}`);
    else if (n === 1) {
      found++;
      ids.set(u.n, r.json.Resources[0].id);
    } else note(n === 0 ? `${u.userName} missing` : `${u.userName} found ${n} times`);
  });
  const total = await client.request('verify', 'GET', '/Users?count=0');
  const totalResults = total.json?.totalResults;
  if (totalResults !== plan.users.length) note(`the connection holds ${totalResults} users, the plan ${plan.users.length}`);

  const step = Math.max(1, Math.floor(plan.users.length / Math.max(1, sample)));
  const picked = plan.users.filter((u, i) => i % step === 0 && ids.has(u.n)).slice(0, sample);
  let sampleOk = 0;
  await pool(picked, inFlight, async (u) => {
    const r = await client.request('verify', 'GET', `/Users/${ids.get(u.n)}`);
    const want = expectedUser(u, incremental);
    const got = r.status === 200 ? actualUser(r.json) : null;
    const wrong = got ? Object.keys(want).filter((k) => want[k] !== got[k]) : ['(unreadable)'];
    if (wrong.length) note(`${u.userName}: ${wrong.map((k) => `${k} ${JSON.stringify(got?.[k])} ≠ ${JSON.stringify(want[k])}`).join(', ')}`);
    else sampleOk++;
  });

  let membersExpected = 0;
  let membersFound = 0;
  let groupsFound = 0;
  if (groups) {
    await pool(plan.groups, inFlight, async (g) => {
      const r = await client.request('verify', 'GET', groupLookup(g));
      const n = r.json?.totalResults ?? 0;
      const planned = plan.users.filter((u) => u.group === g.g).map((u) => ids.get(u.n));
      membersExpected += planned.length;
      if (n !== 1) return note(n === 0 ? `group ${g.displayName} missing` : `group ${g.displayName} found ${n} times`);
      groupsFound++;
      const doc = await client.request('verify', 'GET', `/Groups/${r.json.Resources[0].id}`);
      const have = new Set((doc.json?.members ?? []).map((m) => m.value));
      const absent = planned.filter((id) => !have.has(id));
      membersFound += planned.length - absent.length;
      if (absent.length) note(`group ${g.displayName}: ${absent.length} of ${planned.length} members missing`);
      if (have.size !== planned.length) note(`group ${g.displayName}: ${have.size} members, the plan ${planned.length}`);
    });
  }
  return {
    ok: problems.length === 0,
    usersExpected: plan.users.length,
    usersFound: found,
    totalResults,
    sampleChecked: picked.length,
    sampleOk,
    groupsExpected: groups ? plan.groups.length : 0,
    groupsFound,
    membersExpected,
    membersFound,
    problems,
  };
}

/** Latency percentile (ms) of a sorted list. */
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Per kind: count, p50, p99, non-2xx, transport errors (kinds with no requests left out). */
export function summarize(stats) {
  const out = {};
  for (const [kind, s] of Object.entries(stats)) {
    const n = s.latencies.length + s.non2xx;
    if (!n && !s.errors) continue;
    const sorted = [...s.latencies].sort((a, b) => a - b);
    out[kind] = { count: n, p50: percentile(sorted, 50), p99: percentile(sorted, 99), non2xx: s.non2xx, errors: s.errors, firstBad: s.firstBad };
  }
  return out;
}
