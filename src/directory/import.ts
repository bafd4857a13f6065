/**
 * CSV import for organisations without a SCIM connection: one user per row
 * (first name, last name, e-mail, gender, group, language), through the same
 * policies as SCIM. An organisation whose users come from its IdP refuses the
 * import as a whole: two sources of truth would fight over the same people.
 */
import { parse } from 'csv-parse/sync';
import { fail, isRollcallError } from '../scim/errors.js';
import { ROLLCALL_USER } from '../scim/schemas.js';
import { parseFilter } from '../scim/filter/parse.js';
import type { ConnectionDirectory } from './connections.js';
import type { UserDirectory } from './users.js';
import type { GroupDirectory } from './groups.js';
import { requestContext } from './context.js';

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
  csvText: string,
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
  let records: string[][];
  let lines: number[];
  try {
    // info: the line in the file where each record starts, for the report.
    const parsed = parse(csvText, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true, delimiter: [',', ';', '\t'], info: true }) as unknown as {
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
