/**
 * The layer rules of docs/architecture.md, checked by test/unit/layers.test.ts
 * (and by hand: `npx depcruise src`).
 *
 *   index → embed, cli → http → rollcall.ts → sources → directory → events → store → scim
 *
 * Each layer imports only itself and the layers below it; above directory/, only the
 * composition root (rollcall.ts) touches store/. Type-only imports count: a type that
 * points up the layers is the first step of a cycle.
 */
const SCIM = '^src/scim/';
const STORE = '^src/store/';
const EVENTS = '^src/events/';
const DIRECTORY = '^src/directory/';
const SOURCES = '^src/sources/';
const ROOT = '^src/rollcall\\.ts$';
const CONFIG = '^src/config\\.ts$';
const HTTP = '^src/http/';
const EMBED = '^src/embed/';
const CLI = '^src/(cli\\.ts$|cli/)';
const INDEX = '^src/index\\.ts$';

/** A module in `from` may not import one in any of `to`. */
const forbid = (name, from, to, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to.join('|') },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles hide which module owns what.', from: {}, to: { circular: true } },
    forbid('scim-is-pure', SCIM, [STORE, EVENTS, DIRECTORY, SOURCES, ROOT, CONFIG, HTTP, EMBED, CLI, INDEX], 'scim/ is the protocol: it imports nothing of ours.'),
    forbid('store-below-events', STORE, [EVENTS, DIRECTORY, SOURCES, ROOT, CONFIG, HTTP, EMBED, CLI, INDEX], 'store/ imports only store/ and scim/.'),
    forbid('events-below-directory', EVENTS, [DIRECTORY, SOURCES, ROOT, CONFIG, HTTP, EMBED, CLI, INDEX], 'events/ imports only events/, store/ and scim/.'),
    forbid('directory-below-root', DIRECTORY, [SOURCES, ROOT, CONFIG, HTTP, EMBED, CLI, INDEX], 'directory/ knows nothing of HTTP, the CLI or the composition root.'),
    forbid('sources-below-root', SOURCES, [ROOT, CONFIG, HTTP, EMBED, CLI, INDEX, STORE], 'Pulled sources feed the directory as the SCIM routes do.'),
    forbid('root-below-http', ROOT, [HTTP, EMBED, CLI, INDEX], 'rollcall.ts composes the layers below it.'),
    forbid('config-below-root', CONFIG, [HTTP, EMBED, CLI, INDEX, ROOT, STORE, EVENTS], 'config.ts reads the environment; it may use directory/ limits only.'),
    forbid('http-below-embed', HTTP, [EMBED, CLI, INDEX, STORE], 'http/ serves the API; above directory/, only rollcall.ts touches store/.'),
    forbid('embed-below-index', EMBED, [CLI, INDEX, STORE], 'embed/ adapts http/ and the directory for host applications.'),
    forbid('cli-no-store', CLI, [EMBED, INDEX, STORE], 'The CLI goes through rollcall.ts like every other caller.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
