/** Recognising database errors that are answers, not bugs. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  // better-sqlite3: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; pg: 23505.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * Which unique index refused a write: PostgreSQL names the index, SQLite names
 * the columns. Undefined when it cannot be told.
 */
export function uniqueViolationOf(e: unknown): 'user_name' | 'external_key' | 'group_name' | undefined {
  const err = e as { constraint?: unknown; message?: unknown };
  const text = `${typeof err?.constraint === 'string' ? err.constraint : ''} ${typeof err?.message === 'string' ? err.message : ''}`;
  if (/external_key/.test(text)) return 'external_key';
  if (/user_name/.test(text)) return 'user_name';
  if (/groups[._]display_name/.test(text)) return 'group_name';
  return undefined;
}
