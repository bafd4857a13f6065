/**
 * `rollcall export`: a connection's users and groups as SCIM resources, one JSON
 * document a line, read page by page (10,000 users here; bounded memory is the
 * design: keyset pages, no offsets, no counts, writes wait for the stream).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRollcall, type Rollcall } from '../../src/rollcall.js';
import { requestContext } from '../../src/directory/context.js';
import { freshDatabase, type TestDatabase } from '../support/databases.js';
import { baseEnv, runCli } from './support.js';

const USERS = 10_000;
let d: TestDatabase;
let connectionId = '';
let groupIds: string[] = [];

beforeAll(async () => {
  d = await freshDatabase('rollcall-export-');
  const rc: Rollcall = await createRollcall({ databaseUrl: d.url, publicUrl: 'https://scim.example.com' });
  try {
    const c = await rc.connections.create({ name: 'Export Corp' });
    connectionId = c.id;
    const ctx = requestContext(c.id, c, c.scimUrl);
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < USERS) {
          const i = next++;
          const u = await rc.users.create(ctx, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `person${i}@example.com`, name: { givenName: 'Person', familyName: String(i) } });
          ids.push(u.row.id);
        }
      }),
    );
    // One user deleted: soft-deleted users are not part of the directory a client sees.
    await rc.users.delete(ctx, ids[0]);
    for (const name of ['Engineering', 'Sales']) {
      const members = ids.slice(1, name === 'Sales' ? 11 : 2_001).map((value) => ({ value }));
      // At most 1,000 members named per request (ROLLCALL_MAX_MEMBERS_PER_REQUEST): the rest in a PATCH.
      const g = await rc.groups.create(ctx, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name, members: members.slice(0, 1000) });
      if (members.length > 1000) {
        await rc.groups.patch(ctx, g.row.id, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: members.slice(1000) }] });
      }
      groupIds.push(g.row.id);
    }
  } finally {
    await rc.close();
  }
}, 240_000);

afterAll(async () => {
  await d?.drop();
});

describe('rollcall export', () => {
  it('streams every live user and every group with its members as valid SCIM lines', () => {
    const out = path.join(d.dir, 'export.jsonl');
    const r = runCli(['export', connectionId, '--out', out], baseEnv({ DATABASE_URL: d.url, PUBLIC_URL: 'https://scim.example.com' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Exported ${USERS - 1} users and 2 groups to ${out}.`);
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(USERS - 1 + 2);
    const seen = new Set<string>();
    const users = lines.slice(0, USERS - 1).map((l) => JSON.parse(l) as Record<string, any>);
    for (const u of users) {
      expect(u.schemas).toContain('urn:ietf:params:scim:schemas:core:2.0:User');
      expect(u.userName).toMatch(/^person\d+@example\.com$/);
      expect(u.meta.location).toBe(`https://scim.example.com/scim/v2/${connectionId}/Users/${u.id}`);
      seen.add(u.id);
    }
    expect(seen.size).toBe(USERS - 1);
    expect(users.some((u) => u.userName === 'person0@example.com')).toBe(false);
    const withGroups = users.filter((u) => Array.isArray(u.groups));
    expect(withGroups).toHaveLength(2_000);
    const groups = lines.slice(USERS - 1).map((l) => JSON.parse(l) as Record<string, any>);
    expect(groups.map((g) => g.displayName).sort()).toEqual(['Engineering', 'Sales']);
    for (const g of groups) {
      expect(g.schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:Group']);
      expect(groupIds).toContain(g.id);
      expect(g.members).toHaveLength(g.displayName === 'Sales' ? 10 : 2_000);
      for (const m of g.members) expect(seen.has(m.value)).toBe(true);
    }
  });

  it('writes to standard output without --out, refuses to overwrite a file, and names an unknown connection', () => {
    const env = baseEnv({ DATABASE_URL: d.url });
    const r = runCli(['export', connectionId], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(USERS - 1 + 2);
    const out = path.join(d.dir, 'exists.jsonl');
    fs.writeFileSync(out, 'keep me\n');
    const again = runCli(['export', connectionId, '--out', out], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('never overwrites');
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me\n');
    const unknown = runCli(['export', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('not found');
  });
});
