/** The one way commands answer: a JSON document with --json, lines for people without. */
export function print(json: boolean | undefined, obj: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(obj) + '\n' : text + '\n');
}

/** `1 user`, `2 users`: counts in sentences. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
