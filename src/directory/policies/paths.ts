/**
 * SCIM attribute paths that settings point at (attributeMap, groupRules): checked
 * once against the User schema when settings are saved, then read from canonical
 * user documents on every write.
 */
import { isRollcallError } from '../../scim/errors.js';
import type { Doc } from '../../scim/resource.js';
import { type AttributeDef, findAttr, resolveAttr, schemaById, userResourceType } from '../../scim/schemas.js';
import type { AttrPath, Filter } from '../../scim/filter/ast.js';
import { parsePatchPath } from '../../scim/filter/parse.js';
import { type EvalOptions, matchingIndexes } from '../../scim/filter/evaluate.js';

/** A path that names one simple (non-complex) value per element. */
export interface CompiledPath {
  /** The top-level attribute. */
  def: AttributeDef;
  /** Extension URN the attribute is stored under; undefined for core attributes. */
  ext?: string;
  /** The sub-attribute read from each element (`name.givenName`, `emails[…].value`). */
  sub?: AttributeDef;
  /** Value filter selecting elements of a multi-valued attribute. */
  filter?: Filter;
  evalOptions?: EvalOptions;
}

/** Attributes never copied into a product profile, with the reason given to the operator. */
const REFUSED = new Map<string, string>([
  ['password', 'passwords are write-only and never stored'],
  ['photos', 'photos are not mapped (personal images stay with the identity provider)'],
  ['x509Certificates', 'certificates are not mapped'],
]);

/** Attribute names as written in the path, including those inside `[...]`. */
function namesIn(p: ReturnType<typeof parsePatchPath>): string[] {
  const names = [p.path.attr, p.path.sub, p.subAfterFilter].filter((n): n is string => !!n);
  const walk = (f: Filter): void => {
    if (f.kind === 'and' || f.kind === 'or') {
      walk(f.left);
      walk(f.right);
    } else if (f.kind === 'not') walk(f.filter);
    else names.push(f.path.attr, ...(f.path.sub ? [f.path.sub] : []));
  };
  if (p.filter) walk(p.filter);
  return names;
}

/** Problems in a value filter: every name must be a sub-attribute; no ordering on booleans. */
function filterProblem(def: AttributeDef, f: Filter): string | undefined {
  switch (f.kind) {
    case 'and':
    case 'or':
      return filterProblem(def, f.left) ?? filterProblem(def, f.right);
    case 'not':
      return filterProblem(def, f.filter);
    case 'valuePath':
      return 'value filters cannot be nested';
    case 'present':
    case 'compare': {
      const sub = findAttr(def.subAttributes, f.path.attr);
      if (!sub) return `the filter names '${f.path.attr}', which is not a sub-attribute of '${def.name}'`;
      if (f.kind === 'compare' && ['gt', 'ge', 'lt', 'le'].includes(f.op) && (sub.type === 'boolean' || sub.type === 'binary' || typeof f.value.value === 'boolean')) {
        return `the filter orders '${sub.name}', which cannot be ordered`;
      }
      return undefined;
    }
  }
}

/** A usable path into a complex attribute, for the refusal message. */
function example(def: AttributeDef, prefix: string): string {
  const subs = (def.subAttributes ?? []).filter((s) => s.mutability !== 'readOnly');
  const sub = findAttr(subs, 'value') ?? subs[0];
  const name = sub?.name ?? 'value';
  if (def.multiValued && findAttr(def.subAttributes, 'type')) return `'${prefix}${def.name}[type eq "work"].${name}'`;
  return `'${prefix}${def.name}.${name}'`;
}

/** Compiles a path, or returns why it cannot be used (a sentence fragment after the quoted path). */
function compile(text: string): CompiledPath | string {
  let parsed: ReturnType<typeof parsePatchPath>;
  try {
    parsed = parsePatchPath(text);
  } catch (e) {
    if (isRollcallError(e)) return `is not a valid SCIM attribute path (${e.message})`;
    throw e;
  }
  // Named before schema lookup so the refusal is explicit even for attributes
  // a future schema or extension might add.
  if (namesIn(parsed).some((n) => n.toLowerCase().includes('birth'))) return 'is a birth date, which is never mapped';

  const { path } = parsed;
  if (path.attr === '' || (path.uri !== undefined && schemaById(userResourceType, `${path.uri}:${path.attr}`))) {
    return 'names a whole schema extension; name one of its attributes';
  }
  if (path.uri !== undefined && !schemaById(userResourceType, path.uri)) return `uses the unknown schema '${path.uri}'`;
  const top = resolveAttr(userResourceType, { uri: path.uri, attr: path.attr });
  if (!top) return `names no attribute of the User schema${path.uri ? ` extension '${path.uri}'` : ''}`;
  const def = top.def;
  if (top.common) return `is kept outside the user's attributes (like id, externalId and meta) and cannot be mapped`;
  const refused = REFUSED.get(def.name);
  if (refused) return `is refused: ${refused}`;
  if (def.mutability === 'readOnly') return `names '${def.name}', which is read-only and not stored on the user`;

  const compiled: CompiledPath = { def };
  if (top.inExtension) compiled.ext = top.schema;

  if (parsed.filter) {
    if (!def.multiValued) return `filters '${def.name}', but '[...]' applies only to multi-valued attributes`;
    const problem = filterProblem(def, parsed.filter);
    if (problem) return `has an unusable value filter: ${problem}`;
    compiled.filter = parsed.filter;
    // As PATCH does: the filter compares with each sub-attribute's own case and type rules.
    const subOf = (p: AttrPath) => findAttr(def.subAttributes, p.sub ?? p.attr);
    compiled.evalOptions = { caseExact: (p) => subOf(p)?.caseExact ?? false, typeOf: (p) => subOf(p)?.type };
  }

  const subName = path.sub ?? parsed.subAfterFilter;
  if (subName !== undefined) {
    if (!def.subAttributes) return `names the sub-attribute '${subName}' of '${def.name}', which has none`;
    const sub = findAttr(def.subAttributes, subName);
    if (!sub) return `names '${subName}', which is not a sub-attribute of '${def.name}'`;
    if (sub.mutability === 'readOnly') return `names '${def.name}.${sub.name}', which is read-only and not stored on the user`;
    compiled.sub = sub;
  } else if (def.type === 'complex') {
    return `is a complex attribute; name one of its sub-attributes, e.g. ${example(def, path.uri !== undefined ? `${path.uri}:` : '')}`;
  }
  return compiled;
}

// Paths come from a handful of settings but are read on every user write.
const cache = new Map<string, CompiledPath | string>();
const CACHE_LIMIT = 1000;

/** The compiled path, or a problem sentence fragment (`is a complex attribute; …`). */
export function compilePath(text: string): CompiledPath | string {
  let hit = cache.get(text);
  if (hit === undefined) {
    hit = compile(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, hit);
  }
  return hit;
}

/** Settings-check helper: `where: 'path' problem`, or nothing when the path is usable. */
export function pathProblems(where: string, text: string): string[] {
  const r = compilePath(text);
  return typeof r === 'string' ? [`${where}: '${text}' ${r}`] : [];
}

function isRecord(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && typeof v !== 'object';
}

/**
 * The values a compiled path names in a canonical document, most preferred
 * first, absent and empty values dropped:
 * - filtered: the matching elements' values, in document order;
 * - multi-valued without a filter: the primary element's first, then the rest;
 * - single-valued: at most one value.
 */
export function valuesAt(doc: Doc, p: CompiledPath): (string | number | boolean)[] {
  const container = p.ext === undefined ? doc : doc[p.ext];
  if (!isRecord(container)) return [];
  const raw = container[p.def.name];
  if (raw === undefined || raw === null) return [];

  let elements: unknown[];
  if (!p.def.multiValued) {
    elements = [raw];
  } else {
    const list = Array.isArray(raw) ? raw : [raw];
    if (p.filter) {
      let hits: number[];
      try {
        hits = matchingIndexes(p.filter, list, p.evalOptions, { attr: p.def.name });
      } catch (e) {
        // A filter the evaluator refuses for this data matches nothing rather
        // than failing the user's write over a setting.
        if (isRollcallError(e)) return [];
        throw e;
      }
      elements = hits.map((i) => list[i]);
    } else {
      const primary = list.findIndex((el) => isRecord(el) && el.primary === true);
      elements = primary < 0 ? list : [list[primary], ...list.filter((_, i) => i !== primary)];
    }
  }

  const values = p.sub === undefined ? elements : elements.map((el) => (isRecord(el) ? el[p.sub!.name] : undefined));
  return values.filter(present) as (string | number | boolean)[];
}
