/**
 * The error catalogue is the one source of codes: each is documented in
 * docs/errors.md (which is current), thrown somewhere in src/, and rendered in
 * both API shapes with its code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, ROLLCALL_ERROR_SCHEMA, SCIM_ERROR_SCHEMA, fail, hasCode, type ErrorCode } from '../../src/scim/errors.js';
// @ts-expect-error: a plain ES module without type declarations
import { renderErrorDocs } from '../../scripts/errors-doc.mjs';

const root = path.resolve(__dirname, '../..');
const codes = Object.keys(CATALOGUE) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe('error catalogue', () => {
  it('every code is named ROLLCALL_* and has a status and a summary', () => {
    for (const code of codes) {
      const d = CATALOGUE[code] as { status: number; summary: string; scimType?: string };
      expect(code).toMatch(/^ROLLCALL_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(d.status).toBeGreaterThanOrEqual(400);
      expect(d.status).toBeLessThan(600);
      expect(d.summary.length, code).toBeGreaterThan(10);
    }
  });

  it('docs/errors.md is the catalogue (npm run docs:errors writes it)', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    expect(doc).toBe(renderErrorDocs(CATALOGUE));
    for (const code of codes) expect(doc).toContain(`\`${code}\``);
  });

  it('every code is raised somewhere in src/ (none is dead)', () => {
    const catalogueFile = path.join(root, 'src/scim/errors.ts');
    const text = sourceFiles(path.join(root, 'src'))
      .filter((f) => f !== catalogueFile)
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    const unused = codes.filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });

  it('renders the SCIM error document with the code in the extension, and keeps headers', () => {
    const e = fail('ROLLCALL_DATABASE_BUSY', 'Try again.', { 'Retry-After': '1' });
    expect(e.status).toBe(503);
    expect(e.headers).toEqual({ 'Retry-After': '1' });
    expect(e.toJSON()).toEqual({
      schemas: [SCIM_ERROR_SCHEMA, ROLLCALL_ERROR_SCHEMA],
      status: '503',
      detail: 'Try again.',
      [ROLLCALL_ERROR_SCHEMA]: { code: 'ROLLCALL_DATABASE_BUSY' },
    });
    expect(hasCode(e, 'ROLLCALL_DATABASE_BUSY')).toBe(true);
    expect(hasCode(e, 'ROLLCALL_INTERNAL')).toBe(false);
    expect(hasCode(new Error('ROLLCALL_DATABASE_BUSY'), 'ROLLCALL_DATABASE_BUSY')).toBe(false);
  });
});
