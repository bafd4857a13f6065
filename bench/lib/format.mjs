/** Number formatting and console output shared by every part of the bench. */

export const fmtInt = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
export const fmtUs = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
export const fmtMs = (n) => (n == null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
export const fmtX = (n) => (n == null ? '–' : n.toFixed(2));
export const fmtPct = (n) => (n == null ? '–' : `${(100 * n).toFixed(0)}%`);
export const log = (...a) => console.log(...a);

/** "p50 … ms, p99 … ms, server CPU … µs/req" of a load() result, as every progress line prints it. */
export const fmtLatencyCpu = (r) => `p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, server CPU ${fmtUs(r.cpuUsPerReq)} µs/req`;

/** The PostgreSQL part of a progress line (backend CPU and transactions per request). */
export const fmtPgCost = (r) => `, PostgreSQL CPU ${fmtUs(r.pgCpuUsPerReq)} µs/req, ${fmtX(r.pgXactsPerReq)} transactions/req (approx.)`;

/** A URL without its password, for printing. */
export function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
