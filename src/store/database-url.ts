/** DATABASE_URL: which backend, and where. */
import path from 'node:path';

export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** Parses DATABASE_URL; throws an Error with a one-line message when it is unusable. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^sqlite:/i.test(url)) {
    let file = url.replace(/^sqlite:(\/\/)?/i, '');
    if (file === '') throw new Error(`DATABASE_URL '${url}' names no SQLite file (use sqlite:./data/rollcall.db or sqlite::memory:)`);
    if (file !== ':memory:') file = path.resolve(file);
    return { kind: 'sqlite', file };
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new Error(`DATABASE_URL '${redactUrl(url)}' is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url };
  }
  throw new Error(`DATABASE_URL '${redactUrl(url)}' is not understood; expected sqlite:PATH`);
}

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
