/**
 * Parser for RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths.
 *
 * Hand-written recursive descent over the raw characters rather than a separate
 * lexer, because what a character means depends on where we are: `.` and `:` are
 * part of an attribute path but also of an unquoted value (`2015-10-10T14:38:21Z`).
 * The parser is schema-free: names are kept exactly as written.
 */
import { type ErrorCode, type RollcallError, fail as failWith } from '../errors.js';
import type { AttrPath, CompareOp, CompareValue, Filter, PatchPath } from './ast.js';
import { DEFAULT_LIMITS, type ScimLimits } from '../limits.js';

/**
 * Caps so a hostile filter cannot cost unbounded time or blow the stack; a server
 * passes its configured ones (scim/limits.ts).
 */
export type FilterBounds = Pick<ScimLimits, 'filterLength' | 'filterTerms' | 'filterDepth'>;
const DEFAULT_BOUNDS: FilterBounds = DEFAULT_LIMITS;

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
/** ATTRNAME from RFC 7643 §2.1, plus `$ref` which the RFC uses as a sub-attribute name. */
const ATTR_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
/** Characters that end an attribute path token. */
const PATH_STOP = new Set([...WHITESPACE, '[', ']', '(', ')', '"']);
/** Characters that end an unquoted value token (whitespace, `)` and `]` per the brief; `(`, `[`, `"` so garbage is reported rather than swallowed). */
const VALUE_STOP = PATH_STOP;

type Fail = (detail: string) => RollcallError;

function isNameChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '-';
}

/** Quote a user-supplied fragment for an error message, shortened so errors stay readable. */
function q(s: string): string {
  const short = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return `'${short}'`;
}

class Parser {
  pos = 0;
  private depth = 0;
  /** Attribute terms so far: counted while parsing, so a huge filter is refused before its tree is built. */
  private terms = 0;

  constructor(
    private readonly text: string,
    private readonly fail: Fail,
    private readonly bounds: FilterBounds = DEFAULT_BOUNDS,
    /** A filter over the bounds is FILTER_TOO_COMPLEX; a PATCH path's value filter is an invalid path. */
    private readonly tooComplex: Fail = (detail) => failWith('ROLLCALL_FILTER_TOO_COMPLEX', detail),
  ) {}

  private term(): void {
    if (++this.terms > this.bounds.filterTerms) throw this.tooComplex(`The filter has more than ${this.bounds.filterTerms} terms (ROLLCALL_MAX_FILTER_TERMS).`);
  }

  /** Positions are reported 1-based, which is what a person counting characters expects. */
  error(detail: string, at: number = this.pos): RollcallError {
    return this.fail(`${detail} at position ${at + 1}`);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  skipWs(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos])) this.pos++;
  }

  /** The name-character word starting at `at`, without consuming it. */
  wordAt(at: number): string {
    let end = at;
    while (end < this.text.length && isNameChar(this.text[end])) end++;
    return this.text.slice(at, end);
  }

  /** A short description of what is at the cursor, for "found …" messages. */
  found(): string {
    if (this.atEnd()) return 'end of input';
    const word = this.wordAt(this.pos);
    if (word) return q(word);
    let end = this.pos;
    while (end < this.text.length && !WHITESPACE.has(this.text[end])) end++;
    return q(this.text.slice(this.pos, Math.max(end, this.pos + 1)));
  }

  enter(): void {
    if (++this.depth > this.bounds.filterDepth) throw this.tooComplex(`The filter nests deeper than ${this.bounds.filterDepth} levels (ROLLCALL_MAX_FILTER_DEPTH).`);
  }

  leave(): void {
    this.depth--;
  }

  // filter = orExpr ; orExpr = andExpr *("or" andExpr) ; andExpr = unary *("and" unary)
  parseOr(inBracket: boolean): Filter {
    let left = this.parseAnd(inBracket);
    // Iterative so long `or` chains build a left-deep tree without recursion.
    while (this.takeKeyword('or')) left = { kind: 'or', left, right: this.parseAnd(inBracket) };
    return left;
  }

  parseAnd(inBracket: boolean): Filter {
    let left = this.parseUnary(inBracket);
    while (this.takeKeyword('and')) left = { kind: 'and', left, right: this.parseUnary(inBracket) };
    return left;
  }

  /** Consume a logical keyword (case-insensitive) if it comes next; otherwise leave the cursor alone. */
  takeKeyword(keyword: string): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.wordAt(this.pos).toLowerCase() === keyword) {
      this.pos += keyword.length;
      return true;
    }
    this.pos = save;
    return false;
  }

  parseUnary(inBracket: boolean): Filter {
    this.skipWs();
    if (this.atEnd()) throw this.error('expected an expression but the filter ended');
    const c = this.peek();
    if (c === '(') return this.parseGroup(inBracket);
    if (c === ')' || c === ']') throw this.error(`unexpected '${c}' where an expression was expected`);

    const word = this.wordAt(this.pos);
    if (word.toLowerCase() === 'not') {
      const save = this.pos;
      this.pos += word.length;
      this.skipWs();
      if (this.peek() === '(') return { kind: 'not', filter: this.parseGroup(inBracket) };
      // An attribute literally named "not" (`not eq "x"`) is legal ATTRNAME; only
      // complain when what follows is not an operator.
      if (!COMPARE_OPS.has(this.wordAt(this.pos).toLowerCase()) && this.wordAt(this.pos).toLowerCase() !== 'pr') {
        throw this.error(`'not' must be followed by '(' but found ${this.found()}`);
      }
      this.pos = save;
    }
    return this.parseAttrExpr(inBracket);
  }

  /** `( filter )` with the cursor on the opening parenthesis. */
  parseGroup(inBracket: boolean): Filter {
    const open = this.pos;
    this.enter();
    this.pos++;
    const inner = this.parseOr(inBracket);
    this.skipWs();
    if (this.peek() !== ')') {
      throw this.error(`missing ')' to close the '(' at position ${open + 1}; found ${this.found()}`);
    }
    this.pos++;
    this.leave();
    return inner;
  }

  parseAttrExpr(inBracket: boolean): Filter {
    const start = this.pos;
    const path = this.parsePath();
    if (inBracket && (path.uri !== undefined || path.sub !== undefined)) {
      throw this.error(
        `inside '[...]' name a sub-attribute of the enclosing attribute (e.g. type), not ${q(this.text.slice(start, this.pos))}`,
        start,
      );
    }

    if (this.peek() === '[') {
      if (inBracket) throw this.error('value filters cannot be nested');
      const filter = this.parseValueFilter(path, start);
      // `emails[type eq "work"].value eq "x"` is outside the RFC filter grammar but
      // is what Entra ID's documentation says it sends for a uniqueness check; it
      // reads as `emails[type eq "work" and value eq "x"]`.
      if (this.peek() === '.') {
        this.pos++;
        const subStart = this.pos;
        const sub = this.readPathToken();
        if (!/^[A-Za-z][\w$-]*$/.test(sub)) throw this.error(`expected a sub-attribute name after '].' but found ${q(sub) || this.found()}`, subStart);
        const term = this.parseCondition({ attr: sub }, subStart);
        return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: term } };
      }
      return { kind: 'valuePath', path, filter };
    }

    return this.parseCondition(path, start);
  }

  /** `pr` or `compareOp value` after `path` (which began at `start`). */
  parseCondition(path: AttrPath, start: number): Filter {
    this.skipWs();
    const opAt = this.pos;
    const op = this.wordAt(this.pos);
    if (!op) throw this.error(`expected an operator after ${q(this.text.slice(start, opAt).trimEnd())} but found ${this.found()}`);
    const lower = op.toLowerCase();
    if (lower === 'pr') {
      this.pos += op.length;
      this.term();
      return { kind: 'present', path };
    }
    if (!COMPARE_OPS.has(lower)) {
      throw this.error(`unknown operator ${q(op)} (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)`, opAt);
    }
    this.pos += op.length;
    const value = this.parseValue(lower);
    this.term();
    return { kind: 'compare', path, op: lower as CompareOp, value };
  }

  /** `[ valFilter ]` with the cursor on `[`. */
  parseValueFilter(path: AttrPath, pathStart: number): Filter {
    if (path.sub !== undefined || path.attr === '') {
      throw this.error(`'[' must follow a multi-valued attribute name, not ${q(this.text.slice(pathStart, this.pos))}`);
    }
    const open = this.pos;
    this.enter();
    this.pos++;
    this.skipWs();
    if (this.peek() === ']') throw this.error('empty value filter');
    const filter = this.parseOr(true);
    this.skipWs();
    if (this.peek() !== ']') {
      throw this.error(`missing ']' to close the '[' at position ${open + 1}; found ${this.found()}`);
    }
    this.pos++;
    this.leave();
    return filter;
  }

  /** Read the raw text of an attribute path: up to whitespace, brackets, parens or a quote. */
  readPathToken(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !PATH_STOP.has(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  parsePath(): AttrPath {
    const start = this.pos;
    const token = this.readPathToken();
    if (!token) throw this.error(`expected an attribute name but found ${this.found()}`);
    const path = splitPath(token);
    if (!path) throw this.error(`invalid attribute path ${q(token)}`, start);
    return path;
  }

  parseValue(op: string): CompareValue {
    this.skipWs();
    const c = this.peek();
    if (this.atEnd() || c === ')' || c === ']') throw this.error(`missing value after '${op}'`);
    if (c === '"') return { value: this.parseString() };

    const start = this.pos;
    while (this.pos < this.text.length && !VALUE_STOP.has(this.text[this.pos])) this.pos++;
    const raw = this.text.slice(start, this.pos);
    if (!raw) throw this.error(`unexpected '${c}' where a value was expected`);
    return interpretBare(raw);
  }

  /** A JSON string literal with the cursor on the opening quote. */
  parseString(): string {
    const open = this.pos;
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c !== '\\') {
        // Copy unescaped runs in one slice rather than char by char.
        let end = this.pos;
        while (end < this.text.length && this.text[end] !== '"' && this.text[end] !== '\\') end++;
        out += this.text.slice(this.pos, end);
        this.pos = end;
        continue;
      }
      const esc = this.text[this.pos + 1];
      switch (esc) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = this.text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error(`invalid unicode escape ${q('\\u' + hex)} in string`);
          const code = parseInt(hex, 16);
          // PostgreSQL cannot store or compare U+0000; refused on every backend alike (as in bodies).
          if (code === 0) throw this.error('U+0000 (\\u0000) is not allowed in a string');
          out += String.fromCharCode(code);
          this.pos += 4;
          break;
        }
        case undefined:
          throw this.error(`unterminated string starting`, open);
        default:
          throw this.error(`invalid escape ${q('\\' + esc)} in string`);
      }
      this.pos += 2;
    }
    throw this.error(`unterminated string starting`, open);
  }
}

/** An unquoted value: JSON number/true/false/null, else a plain string (Entra ID's `eq jyoung`). */
function interpretBare(raw: string): CompareValue {
  const lower = raw.toLowerCase();
  if (lower === 'true') return { value: true, raw };
  if (lower === 'false') return { value: false, raw };
  if (lower === 'null') return { value: null, raw };
  if (JSON_NUMBER.test(raw)) {
    const n = Number(raw);
    // 1e400 is a JSON number but not a finite JS one; keep it as text rather than Infinity.
    if (Number.isFinite(n)) return { value: n, raw };
  }
  return { value: raw, raw };
}

/**
 * `[uri ":"] attr ["." sub]` → AttrPath, or undefined when malformed. The URI is
 * everything before the LAST colon, because schema URNs themselves contain colons
 * and dots (`urn:…:enterprise:2.0:User:manager.value`).
 */
function splitPath(token: string): AttrPath | undefined {
  const colon = token.lastIndexOf(':');
  const uri = colon >= 0 ? token.slice(0, colon) : undefined;
  if (uri === '') return undefined;
  const parts = token.slice(colon + 1).split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p))) return undefined;
  const path: AttrPath = uri !== undefined ? { uri, attr: parts[0] } : { attr: parts[0] };
  if (parts.length === 2) path.sub = parts[1];
  return path;
}

function checkInput(text: unknown, what: string, fail: Fail, tooLong: ErrorCode, max: number): string {
  if (typeof text !== 'string') throw fail(`${what} must be a string`);
  if (text.length > max) throw failWith(tooLong, `${what} is longer than ${max} characters`);
  return text;
}

/**
 * Parse an RFC 7644 §3.4.2.2 filter. Throws RollcallError(400, invalidFilter) on any
 * malformed input. Operators and and/or/not are case-insensitive; attribute names
 * are kept as written.
 */
export function parseFilter(text: string, bounds: FilterBounds = DEFAULT_BOUNDS): Filter {
  const fail: Fail = (detail) => failWith('ROLLCALL_INVALID_FILTER_SYNTAX', detail);
  const input = checkInput(text, 'filter', fail, 'ROLLCALL_FILTER_TOO_LONG', bounds.filterLength);
  const p = new Parser(input, fail, bounds);
  p.skipWs();
  if (p.atEnd()) throw fail('filter is empty');
  const filter = p.parseOr(false);
  p.skipWs();
  if (!p.atEnd()) {
    const c = p.peek();
    if (c === ')') throw p.error(`unbalanced ')'`);
    if (c === ']') throw p.error(`unbalanced ']'`);
    throw p.error(`expected 'and', 'or' or the end of the filter but found ${p.found()}`);
  }
  return filter;
}

/**
 * Parse an RFC 7644 §3.5.2 PATCH path: `attr`, `attr.sub`, URN-qualified forms,
 * `attr[filter]` and `attr[filter].sub`. Throws RollcallError(400, invalidPath).
 *
 * Schema-free, so URNs are split at the LAST colon. Consequence for consumers: a
 * bare extension URN such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
 * comes back as `{ uri: 'urn:…:enterprise:2.0', attr: 'User' }`. Callers MUST check
 * whether `uri + ':' + attr` is (case-insensitively) a known schema URN and, if so,
 * treat the path as "the whole extension object". When the part after the last
 * colon is not a valid attribute path at all (`urn:acme:ext:1.0`), the whole text is
 * returned as `{ uri: text, attr: '' }`, where `attr: ''` means the whole extension.
 */
export function parsePatchPath(text: string): PatchPath {
  const fail: Fail = (detail) => failWith('ROLLCALL_INVALID_PATH_SYNTAX', detail);
  const input = checkInput(text, 'path', fail, 'ROLLCALL_PATH_TOO_LONG', DEFAULT_BOUNDS.filterLength);
  const p = new Parser(input, fail, DEFAULT_BOUNDS, fail);
  p.skipWs();
  if (p.atEnd()) throw fail('path is empty');

  const start = p.pos;
  const token = p.readPathToken();
  if (!token) throw p.error(`expected an attribute name but found ${p.found()}`);
  let path = splitPath(token);
  if (!path) {
    if (token.includes(':') && !token.startsWith(':') && !token.endsWith(':')) path = { uri: token, attr: '' };
    else throw p.error(`invalid attribute path ${q(token)}`, start);
  }

  const result: PatchPath = { path };
  if (p.peek() === '[') {
    result.filter = p.parseValueFilter(path, start);
    if (p.peek() === '.') {
      p.pos++;
      const subAt = p.pos;
      const sub = p.readPathToken();
      if (!ATTR_NAME.test(sub)) throw p.error(`invalid sub-attribute ${q(sub)} after ']'`, subAt);
      result.subAfterFilter = sub;
    }
  }
  p.skipWs();
  if (!p.atEnd()) throw p.error(`unexpected ${p.found()} after the path`);
  return result;
}
