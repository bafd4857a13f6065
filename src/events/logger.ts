/** The little of a logger the event machinery needs (pino's, and so Fastify's, fits). */
export interface Logger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Until a host or `rollcall serve` installs its logger: one JSON line on stderr for warnings and errors. */
export const stderrLogger: Logger = {
  error: (obj, msg) => write('error', obj, msg),
  warn: (obj, msg) => write('warn', obj, msg),
  info: () => {},
};

function write(level: string, obj: object, msg: string) {
  const o: Record<string, unknown> = { level, time: new Date().toISOString(), msg };
  for (const [k, v] of Object.entries(obj)) o[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
  try {
    process.stderr.write(JSON.stringify(o) + '\n');
  } catch {
    // logging must never fail the caller
  }
}
