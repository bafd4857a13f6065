/**
 * `engines` is a promise: every package npm installs must run on every Node line
 * we claim (20, 22, 24), or `npm install` warns EBADENGINE on a fresh machine.
 * Optional platform packages npm skips on a mismatch are left out.
 */
import fs from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { engines: { node: string }; allowScripts?: Record<string, boolean> };
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; hasInstallScript?: boolean }>;
};

describe('supported Node versions', () => {
  it('claims Node 20, 22 and 24', () => {
    for (const major of [20, 22, 24]) {
      expect(semver.intersects(pkg.engines.node, `${major}.x`), `engines admits Node ${major}`).toBe(true);
    }
  });

  it('every installed dependency admits the oldest release of each claimed line', () => {
    const lines = [20, 22, 24].map((major) => {
      const oldest = semver.minVersion(semver.validRange(`${major}.x`)!);
      // the oldest version of this line that `engines` admits
      let v = oldest!.version;
      while (!semver.satisfies(v, pkg.engines.node)) v = semver.inc(v, 'minor')!;
      return v;
    });
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(lock.packages)) {
      const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
      if (!name || !range || entry.optional) continue;
      for (const v of lines) if (!semver.satisfies(v, range)) refused.push(`${name} wants node ${range}, not ${v}`);
    }
    expect(refused).toEqual([]);
  });

  it('names every dependency whose install script npm should run', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([name, e]) => name && e.hasInstallScript && !e.optional)
      .map(([name]) => name.replace(/^.*node_modules\//, ''));
    const approved = Object.keys(pkg.allowScripts ?? {});
    expect(withScripts.filter((n) => !approved.includes(n))).toEqual([]);
  });
});
