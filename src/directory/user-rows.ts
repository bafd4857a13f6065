/** A user document as stored: the columns mirrored from it and its e-mail index rows. */
import type { Doc } from '../scim/resource.js';
import type { EmailRow } from '../store/users.js';

/** The e-mail rows that make `emails[...]` filters indexable. */
export function emailRows(doc: Doc): EmailRow[] {
  const emails = doc.emails;
  if (!Array.isArray(emails)) return [];
  // Every e-mail gets a row, even one without a value, so `emails[type eq "work"]` sees it.
  return emails
    .filter((e): e is Doc => !!e && typeof e === 'object')
    .map((e) => ({
      value: typeof e.value === 'string' ? e.value : undefined,
      type: typeof e.type === 'string' ? e.type : undefined,
      primary: typeof e.primary === 'boolean' ? e.primary : undefined,
    }));
}

/** Columns mirrored from the document so they can be indexed and filtered. */
export function userColumns(doc: Doc, externalId: string | undefined, mappingKey: 'externalId' | 'userName') {
  const userName = doc.userName as string;
  const displayName = typeof doc.displayName === 'string' ? doc.displayName : null;
  // active is always stored explicitly: absent (or removed by PATCH) means active.
  if (typeof doc.active !== 'boolean') doc.active = true;
  const active = doc.active;
  return {
    user_name: userName,
    user_name_lc: userName.toLowerCase(),
    external_id: externalId ?? null,
    external_key: mappingKey === 'externalId' ? (externalId ?? null) : null,
    display_name: displayName,
    display_name_lc: displayName?.toLowerCase() ?? null,
    active: active ? 1 : 0,
    doc: JSON.stringify(doc),
  };
}
