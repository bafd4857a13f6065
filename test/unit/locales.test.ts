/** The console's three languages have the same texts: every key of one is in the others, none empty. */
import { describe, expect, it } from 'vitest';
import en from '../../web/src/locales/en.json' with { type: 'json' };
import de from '../../web/src/locales/de.json' with { type: 'json' };
import nl from '../../web/src/locales/nl.json' with { type: 'json' };

function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function values(o: Record<string, unknown>): unknown[] {
  return Object.values(o).flatMap((v) => (v && typeof v === 'object' ? values(v as Record<string, unknown>) : [v]));
}

describe('console texts', () => {
  it('de and nl have exactly the keys of en, and no text is empty', () => {
    const reference = keys(en).sort();
    expect(keys(de).sort()).toEqual(reference);
    expect(keys(nl).sort()).toEqual(reference);
    for (const lang of [en, de, nl]) expect(values(lang).filter((v) => typeof v !== 'string' || !v.trim())).toEqual([]);
  });
});
