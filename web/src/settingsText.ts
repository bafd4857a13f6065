// Settings the wizard edits as text, one entry a line, to and from the settings document.

/** `a.com, b.com` or one a line → ['a.com', 'b.com']. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `key = value` lines → { key: value }; `bad` lists lines without `=`. */
export function parseMap(text: string): { map: Record<string, string>; bad: string[] } {
  const map: Record<string, string> = {};
  const bad: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    if (i <= 0) bad.push(line);
    else map[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return { map, bad };
}

export function mapText(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
}

export interface GroupRule {
  when: { attribute: string; in: string[] };
  addTo: string;
}

/** `title = Engineer, Developer -> Engineering` lines → group rules. */
export function parseRules(text: string): { rules: GroupRule[]; bad: string[] } {
  const rules: GroupRule[] = [];
  const bad: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([^=]+)=(.+)->(.+)$/.exec(line);
    if (!m) {
      bad.push(line);
      continue;
    }
    rules.push({ when: { attribute: m[1].trim(), in: m[2].split(',').map((s) => s.trim()).filter(Boolean) }, addTo: m[3].trim() });
  }
  return { rules, bad };
}

export function rulesText(rules: GroupRule[] | undefined): string {
  return (rules ?? []).map((r) => `${r.when.attribute} = ${r.when.in.join(', ')} -> ${r.addTo}`).join('\n');
}
