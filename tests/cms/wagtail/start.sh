#!/usr/bin/env bash
# Start a throwaway Wagtail 8 (this folder's project) on 127.0.0.1 with a fresh SQLite database,
# a superuser, the de and fr locales and an API v3 token, and report how to reach it.
#
# usage: start.sh [--port N] [--state-dir DIR] [--info FILE] [--watch-pid PID] [--detach | --install-only]
#   --port N        port on 127.0.0.1 (default 8010)
#   --state-dir D   folder for the database, media and the log (default: a new mktemp -d);
#                   it must hold no db.sqlite3 yet
#   --info FILE     also write the JSON line below to FILE (written atomically, once Wagtail is ready)
#   --watch-pid P   stop Wagtail when process P is gone (the test runner, in case it is killed)
#   --detach        leave Wagtail running and exit (stop it with: kill <pid from the JSON>)
#   --install-only  only make sure the venv matches requirements.txt (pip install), then exit
# LOCSYNC_WAGTAIL_INSTALL=never: never run pip; exit 4 when the venv is missing.
# Without --detach the script stays in the foreground until Wagtail exits; SIGTERM or SIGINT
# stops Wagtail (and removes the state folder if the script made it).
#
# Prints one JSON line on stdout when ready:
#   {"url","token","user","password","locales","parentId","pid","stateDir","log","python"}
# Everything else goes to stderr.
#
# Exit codes: 2 usage, 3 python missing or too old, 4 install failed, 5 Wagtail failed to start,
#             6 provisioning (migrate, superuser, locales, token) failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=wagtail
PORT=8010
START_TIMEOUT=${LOCSYNC_WAGTAIL_START_TIMEOUT:-60}
# shellcheck source=../server_lib.sh
. "$HERE/../server_lib.sh"
parse_options "$@"

PYTHON=${LOCSYNC_WAGTAIL_PYTHON:-$(command -v python3 || true)}
[ -n "$PYTHON" ] || die 3 "python3 is not installed (Wagtail 8 needs Python 3.10 or newer)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die 3 "$("$PYTHON" --version 2>&1) is too old: Wagtail 8 needs Python 3.10 or newer"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || die 3 "$PYTHON has no venv/ensurepip module (apt-get install python3-venv)"

cd "$HERE"

# --- install: a venv per (requirements.txt, Python version), outside the work tree ---------------
# The venv lives in a cache folder keyed by that hash, so fresh clones on the same machine (CI right
# after a session) reuse it; a stamp written after a successful install and import marks it good.
# LOCSYNC_WAGTAIL_VENV_CACHE=DIR picks another cache folder.
STAMP=$({ cat requirements.txt; "$PYTHON" -c 'import sys, platform; print(sys.version, platform.machine())'; } \
  | sha256sum | cut -d' ' -f1)
CACHE_ROOT=${LOCSYNC_WAGTAIL_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/locsync/wagtail-venv}
VENV="$CACHE_ROOT/$STAMP"
VPY="$VENV/bin/python"
good_venv() { [ -f "$VENV/.locsync-install-stamp" ] && [ "$(cat "$VENV/.locsync-install-stamp")" = "$STAMP" ]; }
install_venv() {
  local t0
  t0=$(now)
  say "installing Wagtail into $VENV (pip install -r requirements.txt; about 15 s with a warm pip cache)"
  rm -rf "$VENV"
  local log="$CACHE_ROOT/install-$STAMP.log"
  "$PYTHON" -m venv "$VENV" >&2 || return 1
  if ! "$VPY" -m pip install --disable-pip-version-check --no-input -r requirements.txt >"$log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -n 30 >&2
    return 1
  fi
  # the project loads (settings, apps, the API v3 schema for ArticlePage) under this venv
  PYTHONDONTWRITEBYTECODE=1 DJANGO_SETTINGS_MODULE=locsync_site.settings "$VPY" manage.py check >&2 || return 1
  rm -f "$log"
  printf '%s\n' "$STAMP" > "$VENV/.locsync-install-stamp"
  say "installed in $(since "$t0") s"
  prune_cache "$CACHE_ROOT" "$STAMP"  # venvs for older requirements
}
mkdir -p "$CACHE_ROOT"
if command -v flock >/dev/null 2>&1; then
  # two test runs at once must not both build the same venv
  exec 9>"$CACHE_ROOT/.install.lock"
  flock 9
fi
if ! good_venv && [ "${LOCSYNC_WAGTAIL_INSTALL:-}" = never ]; then
  die 4 "Wagtail is not installed in $VENV and LOCSYNC_WAGTAIL_INSTALL=never"
fi
good_venv || install_venv || die 4 "pip install -r $HERE/requirements.txt failed (see the pip output above)"
if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
[ "$MODE" = install ] && exit 0

# --- provision a fresh database ------------------------------------------------------------------
make_state_dir db.sqlite3

export DJANGO_SETTINGS_MODULE=locsync_site.settings
export WAGTAIL_DB="$STATE_DIR/db.sqlite3" WAGTAIL_MEDIA="$STATE_DIR/media"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# fresh random secrets for every run; nothing secret is committed
WAGTAIL_SECRET_KEY=$("$VPY" -c 'import secrets; print(secrets.token_urlsafe(40))')
PASSWORD=$("$VPY" -c 'import secrets; print(secrets.token_urlsafe(16))')
export WAGTAIL_SECRET_KEY

stop_server_on_exit

T0=$(now)
"$VPY" manage.py migrate --no-input -v0 >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die 6 "migrate failed"; }
say "migrated in $(since "$T0") s"
# "--password=...": a token_urlsafe password starts with "-" one time in 64, and argparse then
# takes "--password -x..." for a missing value (a run failed so)
PROVISION=$("$VPY" manage.py locsync_provision --password="$PASSWORD" 2>>"$LOG") \
  || { tail -n 40 "$LOG" >&2; die 6 "provisioning (superuser, locales, API token) failed"; }

# --- start -----------------------------------------------------------------------------------
T1=$(now)
"$VPY" manage.py runserver "127.0.0.1:$PORT" --noreload --skip-checks >>"$LOG" 2>&1 &
SERVER_PID=$!
say "started Wagtail (pid $SERVER_PID) on http://127.0.0.1:$PORT, log $LOG"
watch_test_runner

# ready = the API answers an authenticated request; the server dying first is a start failure
OUT=$("$VPY" - "http://127.0.0.1:$PORT" "$SERVER_PID" "$START_TIMEOUT" "$PROVISION" "$PASSWORD" "$STATE_DIR" "$LOG" <<'PY'
import json, os, sys, time, urllib.error, urllib.request

url, pid, timeout, provision, password, state, log = sys.argv[1:]
info = json.loads(provision)
deadline = time.monotonic() + float(timeout)
request = urllib.request.Request(url + "/api/v3/whoami/", headers={"Authorization": "Bearer " + info["token"]})
while True:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            if response.status == 200:
                break
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        sys.exit(5)
    if time.monotonic() > deadline:
        sys.exit(5)
    time.sleep(0.1)
info.update(url=url, password=password, pid=int(pid), stateDir=state, log=log, python=sys.executable)
print(json.dumps(info))
PY
) || { say "last lines of $LOG:"; tail -n 40 "$LOG" >&2 || true; die 5 "Wagtail did not answer within ${START_TIMEOUT}s"; }
RSS=$(awk '/VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo "?")
say "ready in $(since "$T1") s after migrate+provision ($(since "$T0") s in all), RSS ${RSS} kB"

hand_over "$OUT"
