/**
 * Runs one filter through both consumers — the SQL compiler (listUsers/listGroups)
 * and the in-memory evaluator — and classifies the outcome.
 */
import { parseFilter } from '../../../src/scim/filter/parse.js';
import { evaluateFilter, type EvalOptions } from '../../../src/scim/filter/evaluate.js';
import type { AttrPath, Filter } from '../../../src/scim/filter/ast.js';
import { ScimError } from '../../../src/scim/errors.js';
import { groupResourceType, resolveAttr, type ResourceTypeDef, userResourceType } from '../../../src/scim/schemas.js';
import { listUsers } from '../../../src/store/users.js';
import { listGroups } from '../../../src/store/groups.js';
import type { Seeded } from './seed.js';

/** caseExact / typeOf callbacks from the schema, as the brief for the evaluator asks. */
export function evalOptions(rt: ResourceTypeDef): EvalOptions {
  const defOf = (p: AttrPath) => {
    const r = resolveAttr(rt, p);
    if (!r) return undefined;
    if (r.subDef) return r.subDef;
    // A complex multi-valued attribute named alone compares its `value` (RFC 7644 §3.4.2.2).
    if (r.def.multiValued && r.def.type === 'complex') return r.def.subAttributes?.find((d) => d.name === 'value') ?? r.def;
    return r.def;
  };
  return {
    caseExact: (p) => defOf(p)?.caseExact ?? false,
    typeOf: (p) => defOf(p)?.type,
  };
}

export type Outcome =
  | { kind: 'match'; ids: string[] }
  | { kind: 'mismatch'; onlySql: string[]; onlyEval: string[]; sqlTotal: number }
  | { kind: 'bothReject'; sql: string; evalError: string }
  | { kind: 'sqlOnlyReject'; sql: string }
  | { kind: 'evalOnlyReject'; evalError: string; sqlIds: string[] }
  | { kind: 'totalMismatch'; total: number; rows: number }
  | { kind: 'parseError'; error: string }
  | { kind: 'crash'; where: 'sql' | 'eval' | 'parse'; error: unknown };

function isInvalidFilter(e: unknown): e is ScimError {
  return e instanceof ScimError && e.scimType === 'invalidFilter';
}

export async function runOne(s: Seeded, resource: 'User' | 'Group', text: string): Promise<{ filter?: Filter; outcome: Outcome }> {
  let filter: Filter;
  try {
    filter = parseFilter(text);
  } catch (e) {
    if (isInvalidFilter(e)) return { outcome: { kind: 'parseError', error: e.message } };
    return { outcome: { kind: 'crash', where: 'parse', error: e } };
  }

  const { db, dialect } = s.rc.database;
  let sqlIds: string[] | undefined;
  let sqlError: ScimError | undefined;
  try {
    const q = { filter, offset: 0, limit: 100_000 };
    const res =
      resource === 'User' ? await listUsers(db, dialect, s.connectionId, q) : await listGroups(db, dialect, s.connectionId, q);
    if (res.total !== res.rows.length) return { filter, outcome: { kind: 'totalMismatch', total: res.total, rows: res.rows.length } };
    sqlIds = res.rows.map((r) => r.id);
  } catch (e) {
    if (!isInvalidFilter(e)) return { filter, outcome: { kind: 'crash', where: 'sql', error: e } };
    sqlError = e;
  }

  const rt = resource === 'User' ? userResourceType : groupResourceType;
  const opts = evalOptions(rt);
  const docs = resource === 'User' ? s.users : s.groups;
  const evalIds: string[] = [];
  let evalError: ScimError | undefined;
  try {
    for (const [id, doc] of docs) if (evaluateFilter(filter, doc, opts)) evalIds.push(id);
  } catch (e) {
    if (!isInvalidFilter(e)) return { filter, outcome: { kind: 'crash', where: 'eval', error: e } };
    evalError = e;
  }

  if (sqlError && evalError) return { filter, outcome: { kind: 'bothReject', sql: sqlError.message, evalError: evalError.message } };
  if (sqlError) {
    // The evaluator is lazy (`a or b` never looks at b when a holds), so a refusal
    // that depends only on the filter can go unnoticed; ask it about every part.
    const partError = evaluatorRejectsAPart(filter, docs, opts);
    if (partError) return { filter, outcome: { kind: 'bothReject', sql: sqlError.message, evalError: partError } };
    return { filter, outcome: { kind: 'sqlOnlyReject', sql: sqlError.message } };
  }
  if (evalError) return { filter, outcome: { kind: 'evalOnlyReject', evalError: evalError.message, sqlIds: sqlIds! } };

  const sqlSet = new Set(sqlIds);
  const evalSet = new Set(evalIds);
  const onlySql = sqlIds!.filter((id) => !evalSet.has(id));
  const onlyEval = evalIds.filter((id) => !sqlSet.has(id));
  if (onlySql.length || onlyEval.length || sqlSet.size !== sqlIds!.length) {
    return { filter, outcome: { kind: 'mismatch', onlySql, onlyEval, sqlTotal: sqlIds!.length } };
  }
  return { filter, outcome: { kind: 'match', ids: evalIds } };
}

function evaluatorRejectsAPart(filter: Filter, docs: Map<string, Record<string, unknown>>, opts: EvalOptions): string | undefined {
  for (const part of candidates(filter)) {
    try {
      for (const doc of docs.values()) evaluateFilter(part, doc, opts);
    } catch (e) {
      if (isInvalidFilter(e)) return e.message;
      throw e;
    }
  }
  return undefined;
}

/**
 * SQL refusals the evaluator does not share that are deliberate, documented
 * choices of the compiler (the evaluator just answers "no match").
 */
export const LEGIT_SQL_ONLY_REJECTIONS: RegExp[] = [
  /^Operator '(co|sw|ew)' cannot compare the boolean/, // co/sw/ew on a boolean
  /is a boolean; compare it with true or false/, // active eq "yes"
  /is a dateTime; .* is not one/, // meta.created gt "x"
  /^Operator '\w+' cannot compare with null/, // title gt null
  /is complex; filter on one of its sub-attributes/, // name eq "x"
  /^Unknown or unfilterable attribute/, // addresses eq "x" (no 'value' sub-attribute)
];

export interface Tally {
  filters: number;
  match: number;
  nonEmptyMatch: number;
  bothReject: number;
  parseError: number;
  sqlOnlyReject: { text: string; message: string }[];
  evalOnlyReject: { text: string; message: string; sqlIds: string[] }[];
  mismatches: { text: string; filter: Filter; onlySql: string[]; onlyEval: string[]; minimal?: string }[];
  crashes: { text: string; where: string; error: unknown }[];
  totalMismatches: { text: string; total: number; rows: number }[];
}

export function newTally(): Tally {
  return {
    filters: 0,
    match: 0,
    nonEmptyMatch: 0,
    bothReject: 0,
    parseError: 0,
    sqlOnlyReject: [],
    evalOnlyReject: [],
    mismatches: [],
    crashes: [],
    totalMismatches: [],
  };
}

export function record(t: Tally, text: string, r: { filter?: Filter; outcome: Outcome }): void {
  t.filters++;
  const o = r.outcome;
  switch (o.kind) {
    case 'match':
      t.match++;
      if (o.ids.length) t.nonEmptyMatch++;
      break;
    case 'bothReject':
      t.bothReject++;
      break;
    case 'parseError':
      t.parseError++;
      break;
    case 'sqlOnlyReject':
      t.sqlOnlyReject.push({ text, message: o.sql });
      break;
    case 'evalOnlyReject':
      t.evalOnlyReject.push({ text, message: o.evalError, sqlIds: o.sqlIds });
      break;
    case 'mismatch':
      t.mismatches.push({ text, filter: r.filter!, onlySql: o.onlySql, onlyEval: o.onlyEval });
      break;
    case 'totalMismatch':
      t.totalMismatches.push({ text, total: o.total, rows: o.rows });
      break;
    case 'crash':
      t.crashes.push({ text, where: o.where, error: o.error });
      break;
  }
}

/** A readable report of everything that is not a clean match. */
export function report(t: Tally, docs: Map<string, Record<string, unknown>>, maxDetailed = 8): string {
  const lines: string[] = [];
  lines.push(
    `${t.filters} filters: ${t.match} agree (${t.nonEmptyMatch} with a non-empty result), ${t.bothReject} rejected by both, ` +
      `${t.sqlOnlyReject.length} rejected by SQL only, ${t.evalOnlyReject.length} rejected by the evaluator only, ` +
      `${t.mismatches.length} MISMATCHES, ${t.crashes.length} crashes, ${t.parseError} parse errors`,
  );
  for (const c of t.crashes.slice(0, 5)) lines.push(`CRASH in ${c.where}: ${c.text}\n  ${(c.error as Error)?.stack ?? String(c.error)}`);
  for (const m of t.totalMismatches.slice(0, 5)) lines.push(`TOTAL ≠ ROWS: ${m.text}: total ${m.total}, rows ${m.rows}`);
  for (const m of t.mismatches.slice(0, maxDetailed)) {
    lines.push(`\nMISMATCH: ${m.text}`);
    if (m.minimal && m.minimal !== m.text) lines.push(`  smallest disagreeing part: ${m.minimal}`);
    lines.push(`  AST: ${JSON.stringify(m.filter)}`);
    const show = (label: string, ids: string[]) => {
      lines.push(`  ${label} (${ids.length}): ${ids.slice(0, 10).join(', ')}`);
      for (const id of ids.slice(0, 2)) lines.push(`    ${JSON.stringify(docs.get(id))}`);
    };
    if (m.onlySql.length) show('only SQL returned', m.onlySql);
    if (m.onlyEval.length) show('only the evaluator matched', m.onlyEval);
  }
  if (t.mismatches.length > maxDetailed) {
    lines.push(`\n… ${t.mismatches.length - maxDetailed} more mismatching filters:`);
    for (const m of t.mismatches.slice(maxDetailed, maxDetailed + 60)) {
      lines.push(`  ${m.minimal ?? m.text}   [+sql ${m.onlySql.length} / +eval ${m.onlyEval.length}]${m.minimal ? '   in: ' + m.text : ''}`);
    }
  }
  const bySqlMessage = new Map<string, string[]>();
  for (const r of t.sqlOnlyReject) {
    const key = r.message.replace(/'[^']*'/g, "'…'").replace(/"[^"]*"/g, '"…"');
    bySqlMessage.set(key, [...(bySqlMessage.get(key) ?? []), r.text]);
  }
  if (bySqlMessage.size) lines.push('\nRejected by SQL only (evaluator answered normally):');
  for (const [msg, texts] of bySqlMessage) lines.push(`  ${texts.length}× ${msg}   e.g. ${texts[0]}`);
  if (t.evalOnlyReject.length) lines.push('\nRejected by the evaluator only (SQL answered normally):');
  for (const r of t.evalOnlyReject.slice(0, 10)) lines.push(`  ${r.text}  → ${r.message} (SQL returned ${r.sqlIds.length})`);
  return lines.join('\n');
}

function pathText(p: AttrPath): string {
  return (p.uri !== undefined ? p.uri + ':' : '') + p.attr + (p.sub !== undefined ? '.' + p.sub : '');
}

/** Filter text for an AST (fully parenthesised), so sub-filters can be re-run on their own. */
export function filterText(f: Filter): string {
  switch (f.kind) {
    case 'compare':
      return `${pathText(f.path)} ${f.op} ${f.value.raw ?? JSON.stringify(f.value.value)}`;
    case 'present':
      return `${pathText(f.path)} pr`;
    case 'and':
    case 'or':
      return `(${filterText(f.left)}) ${f.kind} (${filterText(f.right)})`;
    case 'not':
      return `not (${filterText(f.filter)})`;
    case 'valuePath':
      return `${pathText(f.path)}[${filterText(f.filter)}]`;
  }
}

/** Sub-filters that stand on their own, smallest first. */
function candidates(f: Filter): Filter[] {
  const out: Filter[] = [];
  const walk = (n: Filter, wrap: (x: Filter) => Filter) => {
    switch (n.kind) {
      case 'and':
      case 'or':
        walk(n.left, wrap);
        walk(n.right, wrap);
        break;
      case 'not':
        walk(n.filter, wrap);
        break;
      case 'valuePath': {
        const vp = n;
        walk(vp.filter, (x) => wrap({ kind: 'valuePath', path: vp.path, filter: x }));
        break;
      }
    }
    out.push(wrap(n));
  };
  walk(f, (x) => x);
  return out;
}

/** The smallest sub-filter of a mismatching filter that mismatches by itself. */
export async function minimize(s: Seeded, resource: 'User' | 'Group', f: Filter): Promise<{ text: string; onlySql: string[]; onlyEval: string[] } | undefined> {
  for (const c of candidates(f)) {
    const text = filterText(c);
    const r = await runOne(s, resource, text);
    if (r.outcome.kind === 'mismatch') return { text, onlySql: r.outcome.onlySql, onlyEval: r.outcome.onlyEval };
  }
  return undefined;
}
