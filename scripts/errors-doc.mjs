#!/usr/bin/env node
/**
 * Writes docs/errors.md from the error catalogue (src/scim/errors.ts, read from the
 * build in dist/): `npm run docs:errors`. test/unit/error-catalogue.test.ts renders
 * the same text and fails when the file is not current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HEADER = `# Error codes

Every error Rollcall answers carries one of the codes below. The code is stable: decide
on it, never on the message, which says what happened in this case and may change.

On SCIM paths the answer is RFC 7644's error document, with the code in Rollcall's
extension:

\`\`\`json
{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error", "urn:rollcall:params:scim:api:messages:2.0:Error"],
  "status": "409",
  "scimType": "uniqueness",
  "detail": "userName 'ada@example.com' is already taken in this connection.",
  "urn:rollcall:params:scim:api:messages:2.0:Error": { "code": "ROLLCALL_USERNAME_TAKEN" }
}
\`\`\`

The admin API (\`/api/v1\`) answers \`{ "error": { "status": 409, "code": "ROLLCALL_…", "message": "…" } }\`.
The CLI prints the message on one line and exits non-zero; the library throws a
\`RollcallError\` with \`code\`, \`status\`, \`scimType\` and \`message\`.

This file is written from the catalogue in \`src/scim/errors.ts\` by \`npm run docs:errors\`.

| code | HTTP | scimType | when |
|---|---|---|---|
`;

/** The whole of docs/errors.md for a catalogue `{ CODE: { status, scimType?, summary } }`. */
export function renderErrorDocs(catalogue) {
  const rows = Object.entries(catalogue).map(
    ([code, d]) => `| \`${code}\` | ${d.status} | ${d.scimType ? `\`${d.scimType}\`` : ''} | ${d.summary.replace(/\|/g, '\\|')} |`,
  );
  return HEADER + rows.join('\n') + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { CATALOGUE } = await import(pathToFileURL(path.join(root, 'dist/scim/errors.js')).href);
  fs.writeFileSync(path.join(root, 'docs/errors.md'), renderErrorDocs(CATALOGUE));
  console.log(`docs/errors.md: ${Object.keys(CATALOGUE).length} codes`);
}
