#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite (never for data you keep).
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints the exports below on stdout
#   ROLLCALL_TEST_DATABASES=sqlite,postgres npm test
#   scripts/pg-test-cluster.sh stop              # stops it and deletes its directory
#
# start: initdb in a new temp directory, start PostgreSQL on 127.0.0.1 and a free
#   port (trust auth, user postgres, UTF8; fsync/synchronous_commit/full_page_writes
#   off and max_connections=300, as suits a test cluster), wait until it answers,
#   then print on stdout
#     export ROLLCALL_TEST_PG_URL=postgres://postgres@127.0.0.1:<port>/postgres
#     export ROLLCALL_TEST_PG_DIR=<its directory>
#   and remember the cluster in $ROLLCALL_PG_TEST_STATE (default
#   ${TMPDIR:-/tmp}/rollcall-pg-test.env). Progress goes to stderr.
# stop [DIR]: stop the cluster in DIR (default: $ROLLCALL_TEST_PG_DIR, else the one
#   remembered in the state file) and remove its directory.
#
# Uses the newest /usr/lib/postgresql/*/bin (Debian's layout; PG_BIN overrides it,
# initdb/pg_ctl on PATH are the fallback). initdb refuses to run as root, so as root
# the server runs as the `postgres` system user when it exists (Debian's package
# creates it), else as a `rollcall-ci` user created here; as any other user it runs
# as that user. A cluster the postgresql package may have started on 5432 is not
# touched and not needed.
set -euo pipefail

STATE_FILE="${ROLLCALL_PG_TEST_STATE:-${TMPDIR:-/tmp}/rollcall-pg-test.env}"
MARKER=rollcall-pg-test-cluster # file inside every directory this script made
CI_USER=rollcall-ci

say() { printf 'pg-test-cluster: %s\n' "$*" >&2; }
die() { printf 'pg-test-cluster: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<'EOF'
usage: scripts/pg-test-cluster.sh start        start a throwaway cluster, print its exports
       scripts/pg-test-cluster.sh stop [DIR]   stop it and remove its directory
EOF
  exit 2
}

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || die "PG_BIN=$PG_BIN has no initdb/pg_ctl"
    echo "$PG_BIN"
    return
  fi
  local d best=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
  done
  if [ -z "$best" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    best=$(dirname "$(command -v initdb)")
  fi
  [ -n "$best" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH: install PostgreSQL: apt-get install -y postgresql"
  echo "$best"
}

# The user the server runs as (empty: the current user).
server_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if id -u postgres >/dev/null 2>&1; then
    echo postgres
  else
    if ! id -u "$CI_USER" >/dev/null 2>&1; then
      say "creating system user $CI_USER (initdb refuses to run as root)"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$CI_USER" >&2 ||
        die "could not create user $CI_USER with useradd"
    fi
    echo "$CI_USER"
  fi
}

# as USER CMD...: run CMD as USER (or directly when USER is empty).
as() {
  local user=$1
  shift
  if [ -z "$user" ]; then
    "$@"
  elif command -v runuser >/dev/null; then
    runuser -u "$user" -- "$@"
  else
    su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
  fi
}

free_port() {
  command -v node >/dev/null || die "node is needed to pick a free port"
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

cmd_start() {
  local bin user base dir port locale attempt started=""
  bin=$(find_bin)
  user=$(server_user)
  base="${TMPDIR:-/tmp}"
  if [ -n "$user" ] && ! as "$user" test -x "$base"; then base=/tmp; fi # e.g. TMPDIR under /root
  if [ -f "$STATE_FILE" ]; then
    local old
    old=$(sed -n 's/^export ROLLCALL_TEST_PG_DIR=//p' "$STATE_FILE")
    if [ -n "$old" ] && [ -f "$old/$MARKER" ] && [ -f "$old/data/postmaster.pid" ]; then
      die "a cluster started by this script is still running in $old ($STATE_FILE): stop it first (scripts/pg-test-cluster.sh stop), or set ROLLCALL_PG_TEST_STATE to start another"
    fi
  fi
  dir=$(mktemp -d "$base/rollcall-pg.XXXXXX")
  case "$dir" in *[[:space:]\'\"\\]*) rm -rf "$dir"; die "temp directory '$dir' contains spaces or quotes; set TMPDIR to a plain path" ;; esac
  touch "$dir/$MARKER"
  mkdir "$dir/socket"
  [ -z "$user" ] || chown -R "$user:" "$dir"
  # C.UTF-8: code point order, whatever the machine's locale (and no need for locales to be generated).
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; else locale=C; fi

  say "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') from $bin, in $dir${user:+, as user $user}"
  as "$user" "$bin/initdb" -D "$dir/data" --auth=trust -U postgres -E UTF8 --locale="$locale" --no-instructions >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  }
  # A throwaway test cluster: durability off (the crash tests kill Rollcall, not PostgreSQL).
  cat >>"$dir/data/postgresql.conf" <<EOF

# --- scripts/pg-test-cluster.sh (throwaway test cluster) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/socket'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  for attempt in 1 2 3; do
    port=$(free_port)
    if as "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >"$dir/pg_ctl.log" 2>&1; then
      started=1
      break
    fi
    if ! grep -qiE 'could not bind|address already in use' "$dir/server.log" 2>/dev/null; then break; fi
    say "port $port was taken meanwhile; trying another"
  done
  if [ -z "$started" ]; then
    cat "$dir/pg_ctl.log" >&2
    tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
    as "$user" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    die "PostgreSQL did not start"
  fi
  # pg_ctl -w waited for the server; make sure it answers on TCP, as the tests connect.
  local i
  for i in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres 2>/dev/null; then break; fi
    [ "$i" -lt 60 ] || die "PostgreSQL in $dir does not answer on 127.0.0.1:$port (log: $dir/server.log)"
    sleep 0.5
  done

  {
    echo "export ROLLCALL_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
    echo "export ROLLCALL_TEST_PG_DIR=$dir"
  } >"$dir/env"
  {
    cat "$dir/env"
    echo "PG_BIN=$bin"
    echo "PG_USER=$user"
  } >"$dir/$MARKER"
  cp "$dir/env" "$STATE_FILE"
  say "ready on 127.0.0.1:$port; stop it with: scripts/pg-test-cluster.sh stop"
  cat "$dir/env"
}

cmd_stop() {
  local dir=${1:-${ROLLCALL_TEST_PG_DIR:-}}
  if [ -z "$dir" ]; then
    [ -f "$STATE_FILE" ] || { say "no cluster to stop (no ROLLCALL_TEST_PG_DIR, no $STATE_FILE)"; return 0; }
    dir=$(sed -n 's/^export ROLLCALL_TEST_PG_DIR=//p' "$STATE_FILE")
  fi
  [ -n "$dir" ] || die "no cluster directory to stop"
  if [ ! -d "$dir" ]; then
    say "$dir is gone already"
  else
    [ -f "$dir/$MARKER" ] || die "$dir was not made by this script (no $MARKER file): not touching it"
    local bin user
    bin=$(sed -n 's/^PG_BIN=//p' "$dir/$MARKER")
    user=$(sed -n 's/^PG_USER=//p' "$dir/$MARKER")
    [ -n "$bin" ] || bin=$(find_bin)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as "$user" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 ||
        as "$user" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 ||
        say "pg_ctl stop failed (see $dir/server.log); removing the directory anyway"
    fi
    rm -rf "$dir"
    say "stopped and removed $dir"
  fi
  if [ -f "$STATE_FILE" ] && grep -qxF "export ROLLCALL_TEST_PG_DIR=$dir" "$STATE_FILE"; then rm -f "$STATE_FILE"; fi
}

case "${1:-}" in
  start) [ $# -eq 1 ] || usage; cmd_start ;;
  stop) [ $# -le 2 ] || usage; cmd_stop "${2:-}" ;;
  *) usage ;;
esac
