/**
 * The IdP lookups (`userName eq`, `externalId eq`, `id eq` on the first page) run
 * as prepared statements; they must answer exactly like the general filter path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimClient, startTestApp, type ScimClient, type TestApp } from '../support/app.js';

let t: TestApp;
let c: ScimClient;
const ids: string[] = [];
const q = (f: string, extra = '') => `/Users?filter=${encodeURIComponent(f)}${extra}`;

beforeAll(async () => {
  t = await startTestApp();
  c = scimClient(t.app, await t.connection('lookups', { settings: { mappingKey: 'userName' } }));
  for (const [userName, externalId] of [
    ['Élodie.Martin@Example.com', 'dup'],
    ['bob@example.com', 'dup'],
    ['carol@example.com', 'C-1'],
  ]) {
    const res = await c.post('/Users', { userName, externalId });
    expect(res.status, res.text).toBe(201);
    ids.push(res.body.id);
  }
  expect((await c.delete(`/Users/${ids[2]}`)).status).toBe(204);
});
afterAll(() => t.close());

describe('IdP lookups', () => {
  it('userName eq is case-insensitive, also beyond ASCII', async () => {
    const res = await c.get(q('userName eq "élodie.martin@example.COM"'));
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(ids[0]);
    expect(res.body.Resources[0].userName).toBe('Élodie.Martin@Example.com');
  });

  it('externalId eq is exact, pages, and counts beyond the page', async () => {
    expect((await c.get(q('externalId eq "DUP"'))).body.totalResults).toBe(0);
    const all = await c.get(q('externalId eq dup'));
    expect(all.body.totalResults).toBe(2);
    const one = await c.get(q('externalId eq "dup"', '&count=1'));
    expect(one.body.totalResults).toBe(2);
    expect(one.body.itemsPerPage).toBe(1);
    const second = await c.get(q('externalId eq "dup"', '&count=1&startIndex=2'));
    expect(second.body.Resources.map((r: any) => r.id)).not.toEqual(one.body.Resources.map((r: any) => r.id));
  });

  it('deleted users are not found; id eq finds live ones', async () => {
    expect((await c.get(q(`id eq "${ids[2]}"`))).body.totalResults).toBe(0);
    expect((await c.get(q('userName eq "carol@example.com"'))).body.totalResults).toBe(0);
    expect((await c.get(q(`id eq "${ids[1]}"`))).body.Resources[0].userName).toBe('bob@example.com');
  });

  it('answers the same document as GET by id, and honours attributes', async () => {
    const listed = (await c.get(q('userName eq "bob@example.com"'))).body.Resources[0];
    const direct = (await c.get(`/Users/${ids[1]}`)).body;
    expect(listed).toEqual(direct);
    const projected = await c.get(q('userName eq "bob@example.com"', '&attributes=userName'));
    expect(Object.keys(projected.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });
});
