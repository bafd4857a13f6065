/** Option parsers and file readers shared by commands; bad input is one clear line. */
import fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { fail } from '../scim/errors.js';
import { EVENT_TYPES } from '../events/types.js';

/** A file's text; `what` names it in the error (e.g. "settings file"). */
export function readTextFile(file: string, what?: string): string {
  return readFileBytes(file, what).toString('utf8');
}

/** A file's bytes, for readers that check the encoding themselves (CSV import). */
export function readFileBytes(file: string, what?: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw fail('ROLLCALL_CLI_BAD_INPUT', what ? `cannot read ${what} '${file}': ${why}` : `cannot read '${file}': ${why}`);
  }
}

/** Reads a JSON settings file; one clear line when it is missing or not JSON. */
export function readJsonFile(file: string): unknown {
  const text = readTextFile(file, 'settings file');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fail('ROLLCALL_CLI_BAD_INPUT', `settings file '${file}' is not valid JSON: ${(e as Error).message}`);
  }
}

export function limitOption(max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return Number(v);
  };
}

export function eventTypesOption(v: string): string[] {
  const types = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!types.length) throw new InvalidArgumentError('names no event type; leave --events out to receive every type');
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw new InvalidArgumentError(`unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
  return types;
}

export function wholeDays(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number of days');
  return Number(v);
}

export function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(v);
}
