/**
 * CSV import for organisations without a SCIM connection: one user per row
 * (first name, last name, e-mail, gender, group, language), through the same
 * policies as SCIM. An organisation whose users come from its IdP refuses the
 * import as a whole: two sources of truth would fight over the same people.
 *
 * The file is UTF-8 (a byte order mark is fine; anything else is refused, never
 * guessed), its delimiter is the one the header line uses, and every row's e-mail
 * address is checked before anything is written for it.
 */
import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse/sync';
import { fail, isRollcallError } from '../scim/errors.js';
import { ROLLCALL_USER } from '../scim/schemas.js';
import { parseFilter } from '../scim/filter/parse.js';
import type { ConnectionDirectory } from './connections.js';
import type { UserDirectory } from './users.js';
import type { GroupDirectory } from './groups.js';
import { requestContext } from './context.js';
import { asciiDomain } from './policies/addresses.js';

export interface ImportReport {
  organizationId: string;
  connectionId: string;
  created: number;
  updated: number;
  refused: { line: number; email: string; reason: string }[];
}

/** Header spellings people use, folded (lower case, no spaces, dashes or underscores). */
const COLUMNS: Record<string, 'firstName' | 'lastName' | 'email' | 'gender' | 'group' | 'language'> = {
  firstname: 'firstName',
  givenname: 'firstName',
  vorname: 'firstName',
  lastname: 'lastName',
  familyname: 'lastName',
  surname: 'lastName',
  nachname: 'lastName',
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  gender: 'gender',
  geschlecht: 'gender',
  group: 'group',
  gruppe: 'group',
  team: 'group',
  language: 'language',
  preferredlanguage: 'language',
  sprache: 'language',
};

function fold(header: string): string {
  return header.toLowerCase().replace(/[\s_\-.]/g, '');
}

export async function importCsv(
  deps: { connections: ConnectionDirectory; users: UserDirectory; groups: GroupDirectory },
  organizationId: string,
  csv: string | Uint8Array,
): Promise<ImportReport> {
  const org = await deps.connections.getOrganization(organizationId);
  if (!org) throw fail('ROLLCALL_ORGANIZATION_NOT_FOUND', `no organisation with id '${organizationId}'`);
  const scim = (await deps.connections.connectionsOf(organizationId)).find((c) => c.kind === 'scim' && c.status === 'active');
  if (scim) {
    throw fail(
      'ROLLCALL_CSV_IMPORT_LOCKED',
      `organisation '${org.name}' is provisioned by its identity provider (SCIM connection '${scim.name}', ${scim.id}); its users are managed there, so a CSV import is refused`,
    );
  }
  const csvText = typeof csv === 'string' ? checkedText(csv) : decodeCsv(csv);
  const delimiter = detectDelimiter(csvText);
  let records: string[][];
  let lines: number[];
  try {
    // info: the line in the file where each record starts, for the report.
    const parsed = parse(csvText, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true, delimiter, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    records = parsed.map((p) => p.record);
    lines = parsed.map((p) => p.info.lines);
  } catch (e) {
    throw fail('ROLLCALL_CSV_UNREADABLE', `the CSV file cannot be read: ${(e as Error).message}`);
  }
  if (!records.length) throw fail('ROLLCALL_CSV_UNREADABLE', 'the CSV file is empty');
  const header = records[0].map((h) => COLUMNS[fold(h)]);
  if (!header.includes('email')) {
    throw fail('ROLLCALL_CSV_NO_EMAIL_COLUMN', `the CSV header must name an e-mail column (found: ${records[0].join(', ')}); expected first name, last name, e-mail, gender, group, language`);
  }
  const conn = await deps.connections.importConnection(organizationId);
  const ctx = requestContext(conn.id, conn, conn.scimUrl);
  const report: ImportReport = { organizationId, connectionId: conn.id, created: 0, updated: 0, refused: [] };
  for (let i = 1; i < records.length; i++) {
    const row: Partial<Record<(typeof header)[number] & string, string>> = {};
    header.forEach((col, j) => {
      if (col && records[i][j] !== undefined && records[i][j] !== '') row[col] = records[i][j];
    });
    const email = row.email ?? '';
    const line = lines[i];
    try {
      if (!email) throw fail('ROLLCALL_CSV_ROW_WITHOUT_EMAIL', 'no e-mail address');
      const problem = emailProblem(email);
      if (problem) throw fail('ROLLCALL_CSV_INVALID_EMAIL', `'${email}' is not an e-mail address: ${problem}`);
      const body: Record<string, unknown> = {
        userName: email,
        emails: [{ value: email, type: 'work', primary: true }],
        name: { givenName: row.firstName, familyName: row.lastName },
        displayName: [row.firstName, row.lastName].filter(Boolean).join(' ') || undefined,
        preferredLanguage: row.language,
        active: true,
      };
      if (row.gender) body[ROLLCALL_USER] = { gender: row.gender };
      // Re-importing a file updates the people already there instead of failing on them.
      const existing = await deps.users.list(ctx, { filter: parseFilter(`userName eq ${JSON.stringify(email)}`), startIndex: 1, count: 1 });
      const rec = existing.total ? await deps.users.replace(ctx, existing.records[0].row.id, body) : await deps.users.create(ctx, body);
      if (existing.total) report.updated++;
      else report.created++;
      if (row.group) await deps.groups.addByName(ctx, row.group, rec.row.id);
    } catch (e) {
      if (isRollcallError(e)) report.refused.push({ line, email, reason: e.message });
      else throw e;
    }
  }
  return report;
}

const SAVE_AS_UTF8 = 'save it as UTF-8 (in Excel: "CSV UTF-8"; a byte order mark is fine) and import it again';

/**
 * The file's text, from its bytes: UTF-8 only, with or without a byte order mark.
 * Anything else is refused rather than guessed at: Latin-1 read as UTF-8 would
 * store "M\uFFFDller" for every Müller in the file.
 */
function decodeCsv(bytes: Uint8Array): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw fail('ROLLCALL_CSV_NOT_UTF8', `the CSV file is UTF-16 (it starts with a UTF-16 byte order mark); ${SAVE_AS_UTF8}`);
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw fail(
      'ROLLCALL_CSV_NOT_UTF8',
      `the CSV file is not UTF-8: line ${line} has a byte (0x${bytes[at].toString(16).toUpperCase()}) that UTF-8 does not allow there, as Latin-1 or Windows-1252 files do; ${SAVE_AS_UTF8}`,
    );
  }
  return checkedText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** NUL is valid UTF-8 but no text: UTF-16 without a byte order mark looks like this, and PostgreSQL cannot store it. */
function checkedText(text: string): string {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    let line = 1;
    for (let i = 0; i < nul; i++) if (text.charCodeAt(i) === 0x0a) line++;
    throw fail('ROLLCALL_CSV_NOT_UTF8', `the CSV file contains NUL characters (from line ${line}), as UTF-16 files do; ${SAVE_AS_UTF8}`);
  }
  return text;
}

/** Offset of the first byte that does not begin a valid UTF-8 sequence (overlong forms and surrogates included), -1 if none. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    // A truncated sequence at the end counts as invalid too.
    if (n === 0 || i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let j = 1; j <= n; j++) {
      const d = b[i + j];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < [0, 0x80, 0x800, 0x10000][n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const DELIMITERS = [
  [',', 'commas'],
  [';', 'semicolons'],
  ['\t', 'tabs'],
] as const;

/**
 * The delimiter of the header line: the one of comma, semicolon and tab it uses
 * outside quotes. Offering csv-parse all three at once would split a row at any
 * of them, so a semicolon file with "Smith, Jr." would gain a column. One column
 * (no delimiter at all) reads the same with any of them.
 */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const counts = [0, 0, 0];
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    // A doubled quote inside quotes toggles twice: still quoted, as it should be.
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) {
      if (counts.some((n) => n > 0)) break;
      // Blank lines before the header are skipped, as the parser skips them.
      continue;
    } else if (!quoted) {
      const k = ch === ',' ? 0 : ch === ';' ? 1 : ch === '\t' ? 2 : -1;
      if (k >= 0) counts[k]++;
    }
  }
  const used = DELIMITERS.filter((_, k) => counts[k] > 0);
  if (used.length > 1) {
    const found = DELIMITERS.map(([, name], k) => (counts[k] ? `${counts[k]} ${name}` : '')).filter(Boolean).join(' and ');
    throw fail(
      'ROLLCALL_CSV_DELIMITER_UNCLEAR',
      `the CSV header line has ${found} between its columns, so which one separates the columns is unclear; use only one of comma, semicolon or tab (quote a column name that contains another)`,
    );
  }
  return used.length ? used[0][0] : ',';
}

/**
 * Why `address` is not an e-mail address, or undefined when it is one: a local
 * part (unquoted: no spaces, specials or empty dot-atoms), an @ and a domain name
 * of at least two labels. Character scans only, no regex over the whole input,
 * so a hostile row costs linear time.
 */
export function emailProblem(address: string): string | undefined {
  if (address.length > 254) return 'it is longer than 254 characters';
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return 'it contains a space or control character';
  }
  const at = address.lastIndexOf('@');
  if (at < 0) return 'it has no @';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (!local) return 'nothing comes before the @';
  if (local.length > 64) return 'the part before the @ is longer than 64 characters';
  if (!(local.length >= 2 && local.startsWith('"') && local.endsWith('"'))) {
    for (const ch of local) if ('"(),:;<>@[\\]'.includes(ch)) return `the part before the @ contains '${ch}' (allowed only in quotes)`;
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return 'the part before the @ has a misplaced dot';
  }
  if (!domain) return 'no domain comes after the @';
  const labels = asciiDomain(domain.toLowerCase()).split('.');
  if (labels.length < 2) return `'${domain}' is not a domain name (it has no dot)`;
  for (const label of labels) {
    if (label.length < 1 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return `'${domain}' is not a domain name`;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
      if (!ok) return `'${domain}' is not a domain name`;
    }
  }
  const tld = labels[labels.length - 1];
  if (!/[a-z]/.test(tld)) return `'${domain}' is not a domain name`;
  return undefined;
}
