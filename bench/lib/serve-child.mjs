/**
 * How the bench's own child servers (baseline-server.mjs, null-scim-server.mjs) run:
 * listen on loopback, print "<label> listening on URL" (what lib/servers.mjs waits
 * for), and leave on SIGTERM/SIGINT or when the benchmark that started them is gone.
 */
export function serveChild(server, label) {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${label} listening on http://127.0.0.1:${server.address().port}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  // The benchmark that started this process may die without stopping it: leave when stdout's reader is gone.
  process.stdout.on('error', () => process.exit(0));
  setInterval(() => {
    if (process.ppid === 1) process.exit(0);
  }, 1000).unref();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
