#!/usr/bin/env bash
# Start a throwaway Strapi 5 (this folder's project) on 127.0.0.1 with a fresh SQLite database,
# register its first admin and a full-access API token over REST, and report how to reach it.
#
# usage: start.sh [--port N] [--state-dir DIR] [--info FILE] [--watch-pid PID] [--detach | --install-only]
#   --port N        port on 127.0.0.1 (default 1337)
#   --state-dir D   folder for the database, uploads and the log (default: a new mktemp -d);
#                   it must hold no data.db yet, since register-admin needs an empty database
#   --info FILE     also write the JSON line below to FILE (written atomically, once Strapi is ready)
#   --watch-pid P   stop Strapi when process P is gone (the test runner, in case it is killed)
#   --detach        leave Strapi running and exit (stop it with: kill <pid from the JSON>)
#   --install-only  only make sure node_modules matches package-lock.json (npm ci), then exit
# Without --detach the script stays in the foreground until Strapi exits; SIGTERM or SIGINT
# stops Strapi (and removes the state folder if the script made it).
#
# Prints one JSON line on stdout when ready:
#   {"url","apiToken","apiTokenId","adminJwt","adminId","adminEmail","adminPassword","webhookSecret","locales","pid"}
# plus "stateDir" and "log". Everything else goes to stderr.
#
# Exit codes: 2 usage, 3 node/npm missing, 4 install failed, 5 Strapi failed to start,
#             6 provisioning failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=strapi
PORT=1337
# shellcheck source=../server_lib.sh
. "$HERE/../server_lib.sh"
parse_options "$@"

command -v node >/dev/null 2>&1 || die 3 "node is not installed (Strapi 5 needs Node.js 20 or 22)"
command -v npm >/dev/null 2>&1 || die 3 "npm is not installed"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die 3 "Node.js $(node --version) is too old: Strapi 5.54 needs 20 or newer"

cd "$HERE"

# --- install (npm ci) when node_modules does not match the lock file -------------------------
# The stamp covers package.json, the lock file and the Node ABI (better-sqlite3 is compiled for it).
# npm ci runs in a cache folder outside the work tree, keyed by that stamp, and node_modules here
# becomes a symlink to it: a fresh clone on the same machine (CI right after a session) reuses the
# ~720 MB install instead of spending minutes on it. LOCSYNC_STRAPI_MODULES_CACHE=off installs
# into ./node_modules instead; LOCSYNC_STRAPI_MODULES_CACHE=DIR picks another cache folder.
stamp_now() {
  { cat package.json package-lock.json; node -p 'process.versions.modules + " " + process.arch'; } | sha256sum | cut -d' ' -f1
}
STAMP=$(stamp_now)
CACHE_ROOT=${LOCSYNC_STRAPI_MODULES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/locsync/strapi-modules}
good_modules() {  # $1: a node_modules folder
  [ -f "$1/.locsync-install-stamp" ] && [ "$(cat "$1/.locsync-install-stamp")" = "$STAMP" ]
}
adopt_manual_install() {
  # a plain `npm ci` here writes no stamp: accept it when npm's own record of it is newer than the
  # lock file and the native module loads under this Node
  [ -d node_modules ] && [ ! -L node_modules ] && [ -f node_modules/.package-lock.json ] &&
    [ node_modules/.package-lock.json -nt package-lock.json ] && [ node_modules/.package-lock.json -nt package.json ] &&
    node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1 &&
    printf '%s\n' "$STAMP" > node_modules/.locsync-install-stamp
}
npm_ci_in() {  # $1: folder holding package.json, package-lock.json and .npmrc
  # better-sqlite3 has no prebuilt binary reachable here (its download host is outside the
  # registries) and is compiled by node-gyp: skip the download attempt, and point node-gyp at the
  # headers that ship with the system's Node so that it downloads nothing either.
  if [ -z "${npm_config_nodedir:-}" ]; then
    local prefix
    prefix=$(dirname "$(dirname "$(command -v node)")")
    if [ -f "$prefix/include/node/common.gypi" ]; then export npm_config_nodedir="$prefix"; fi
  fi
  export npm_config_build_from_source=better-sqlite3
  local t0
  t0=$(now)
  say "installing Node dependencies in $1 (npm ci; takes about 5 minutes here, mostly unpacking and compiling better-sqlite3)"
  rm -f "$1/node_modules/.locsync-install-stamp"
  (cd "$1" && npm ci --prefer-offline --no-audit --no-fund >&2) || return 1
  (cd "$1" && node -e "new (require('better-sqlite3'))(':memory:').close()" >&2) || return 1
  printf '%s\n' "$STAMP" > "$1/node_modules/.locsync-install-stamp"
  say "installed in $(since "$t0") s"
}
ensure_installed() {
  good_modules node_modules && return 0
  adopt_manual_install && return 0
  if [ "$CACHE_ROOT" = off ]; then
    [ -L node_modules ] && rm -f node_modules
    npm_ci_in "$HERE"
    return
  fi
  local dir="$CACHE_ROOT/$STAMP"
  mkdir -p "$dir"
  if ! good_modules "$dir/node_modules"; then
    cp package.json package-lock.json .npmrc "$dir/"
    npm_ci_in "$dir" || return 1
    prune_cache "$CACHE_ROOT" "$STAMP"  # installs for older lock files (each is ~720 MB)
  fi
  if [ -e node_modules ] && [ ! -L node_modules ]; then rm -rf node_modules; fi
  ln -sfn "$dir/node_modules" node_modules
}
LOCK_DIR=$HERE
if [ "$CACHE_ROOT" != off ]; then mkdir -p "$CACHE_ROOT" && LOCK_DIR=$CACHE_ROOT; fi
if command -v flock >/dev/null 2>&1; then
  # two test runs at once must not both run npm ci in the same folder
  exec 9>"$LOCK_DIR/.install.lock"
  flock 9
fi
ensure_installed || die 4 "npm ci failed (see the npm output above)"
if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
[ "$MODE" = install ] && exit 0

# --- start -----------------------------------------------------------------------------------
make_state_dir data.db

# Fresh random secrets for every run; nothing secret is committed.
eval "$(node -e '
  const c = require("crypto"), r = (n) => c.randomBytes(n).toString("base64");
  const v = { APP_KEYS: [r(16), r(16)].join(","), API_TOKEN_SALT: r(16), ADMIN_JWT_SECRET: r(16),
              JWT_SECRET: r(16), TRANSFER_TOKEN_SALT: r(16), ENCRYPTION_KEY: r(16),
              WEBHOOK_SECRET: c.randomBytes(16).toString("hex") };
  for (const [k, x] of Object.entries(v)) console.log(`export ${k}=${JSON.stringify(x)}`);
')"
export HOST=127.0.0.1 PORT
export DATABASE_CLIENT=sqlite DATABASE_FILENAME="$STATE_DIR/data.db"
mkdir -p "$STATE_DIR/public/uploads"
export STRAPI_PUBLIC_DIR="$STATE_DIR/public"
export STRAPI_TELEMETRY_DISABLED=true BROWSER=none
export NODE_ENV=${STRAPI_NODE_ENV:-development}

stop_server_on_exit

T0=$(now)
node node_modules/@strapi/strapi/bin/strapi.js start >"$LOG" 2>&1 &
SERVER_PID=$!
say "started Strapi (pid $SERVER_PID) on http://127.0.0.1:$PORT, log $LOG"
watch_test_runner

if ! OUT=$(node provision.js "http://127.0.0.1:$PORT" "$SERVER_PID"); then
  say "last lines of $LOG:"
  tail -n 40 "$LOG" >&2 || true
  if kill -0 "$SERVER_PID" 2>/dev/null; then exit 6; else exit 5; fi
fi
OUT=$(printf '%s' "$OUT" | node -e '
  const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
  o.stateDir = process.argv[1]; o.log = process.argv[2];
  process.stdout.write(JSON.stringify(o));
' "$STATE_DIR" "$LOG")
say "ready in $(since "$T0") s (healthy, admin registered, locales de+fr added, API token created)"

hand_over "$OUT"
