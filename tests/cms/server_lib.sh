# Shared by tests/cms/*/start.sh (sourced, not run): the options, logging, the state folder, the
# cleanup that stops the server, the watch on the test runner, and the hand-over once ready.
# The sourcing script sets NAME (for messages) and PORT (its default) first; it starts its server
# with its PID in SERVER_PID.

say() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() { local code=$1; shift; say "ERROR: $*"; exit "$code"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

STATE_DIR=""
INFO=""
WATCH_PID=""
MODE=foreground
parse_options() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) PORT=${2:?--port needs a value}; shift 2 ;;
      --state-dir) STATE_DIR=${2:?--state-dir needs a value}; shift 2 ;;
      --info) INFO=${2:?--info needs a value}; shift 2 ;;
      --watch-pid) WATCH_PID=${2:?--watch-pid needs a value}; shift 2 ;;
      --detach) MODE=detach; shift ;;
      --install-only) MODE=install; shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *) die 2 "unknown argument: $1" ;;
    esac
  done
}

prune_cache() {  # $1: cache folder, $2: the stamp to keep; only stamp-named folders are ours
  local old
  for old in "$1"/*; do
    case "$(basename "$old")" in
      "$2") ;;
      *) if [[ "$(basename "$old")" =~ ^[0-9a-f]{64}$ ]]; then rm -rf "$old"; fi ;;
    esac
  done
}

MADE_STATE=0
make_state_dir() {  # $1: the database file that must not exist yet
  if [ -z "$STATE_DIR" ]; then
    STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/locsync-$NAME.XXXXXX")
    MADE_STATE=1
  fi
  mkdir -p "$STATE_DIR"
  STATE_DIR=$(cd "$STATE_DIR" && pwd)
  [ -e "$STATE_DIR/$1" ] && die 2 "$STATE_DIR/$1 exists: start.sh needs a fresh database"
  LOG="$STATE_DIR/$NAME.log"
}

SERVER_PID=""
WATCHER=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$WATCHER" ]; then kill "$WATCHER" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$MADE_STATE" = 1 ]; then rm -rf "$STATE_DIR"; fi
  exit "$rc"
}
stop_server_on_exit() {
  trap cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}

watch_test_runner() {  # in the foreground, stop when --watch-pid's process is gone
  if [ -n "$WATCH_PID" ] && [ "$MODE" = foreground ]; then
    ( while kill -0 "$WATCH_PID" 2>/dev/null; do sleep 1; done; kill -TERM $$ 2>/dev/null ) &
    WATCHER=$!
  fi
}

hand_over() {  # $1: the JSON line; then detach, or stay until the server exits
  if [ -n "$INFO" ]; then
    printf '%s\n' "$1" > "$INFO.tmp.$$"
    mv "$INFO.tmp.$$" "$INFO"
  fi
  printf '%s\n' "$1"
  if [ "$MODE" = detach ]; then
    SERVER_PID=""  # keep it running
    MADE_STATE=0   # and keep its state
    exit 0
  fi
  set +e
  wait "$SERVER_PID"
  local rc=$?
  SERVER_PID=""
  say "$NAME exited with status $rc"
  exit "$rc"
}
