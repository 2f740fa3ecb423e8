#!/usr/bin/env bash
# Runs the non-JS client suites against a real Samsa broker process (dist/, built by
# `npm run build`; `npm test` builds first). One broker per suite, each on a free port
# with its own temporary data directory, stopped (SIGTERM) after the suite.
#
#   bash compat-tests/run.sh [suite...]     suites: one per kcat/test_*.py and python/test_*.py,
#                                           e.g. kcat confluent-kafka confluent-kafka-groups
#
# Environment:
#   SAMSA_REQUIRE_CLIENTS=1   a suite whose client is missing counts as failed (CI)
#   SAMSA_COMPAT_PYTHON       Python with the client modules (default /usr/bin/python3,
#                             Debian's, where apt installs python3-confluent-kafka and
#                             python3-kafka)
#   SAMSA_COMPAT_ONLY         comma-separated substrings: run only matching cases
#   SAMSA_COMPAT_TIMEOUT      per-suite time limit in seconds (default 150)
#   SAMSA_KAFKA_PYTHON_API_VERSION  pin kafka-python's api_version (e.g. 2.5.0)
#
# The last line is "N passed, N failed, N skipped" (suites); exit status 1 if any failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CLI="$ROOT/dist/src/cli/main.js"
PY="${SAMSA_COMPAT_PYTHON:-/usr/bin/python3}"
SUITE_TIMEOUT="${SAMSA_COMPAT_TIMEOUT:-150}"
REQUIRE="${SAMSA_REQUIRE_CLIENTS:-0}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/samsa-compat.XXXXXX")"
BROKER_PID=""
SUITE_PID=""

stop_broker() {
  # Stops the broker started by start_broker; sets BROKER_EXIT (or "killed").
  BROKER_EXIT=""
  [ -n "$BROKER_PID" ] || return 0
  if kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -TERM "$BROKER_PID" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$BROKER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$BROKER_PID" 2>/dev/null; then
      kill -KILL "$BROKER_PID" 2>/dev/null
      wait "$BROKER_PID" 2>/dev/null
      BROKER_EXIT="killed (did not stop within 5s of SIGTERM)"
      BROKER_PID=""
      return 0
    fi
  fi
  wait "$BROKER_PID" 2>/dev/null
  BROKER_EXIT=$?
  BROKER_PID=""
}

cleanup() {
  if [ -n "$SUITE_PID" ]; then
    kill -TERM "$SUITE_PID" 2>/dev/null
    wait "$SUITE_PID" 2>/dev/null
    SUITE_PID=""
  fi
  stop_broker
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_broker() {
  # start_broker NAME: starts a broker with data in $WORK/NAME/data; sets BROKER_PID,
  # BROKER_PORT, BROKER_HTTP (host:port of its HTTP server), BROKER_DIR. Returns 1 (with
  # the broker's output) if it did not start.
  local name="$1"
  BROKER_DIR="$WORK/$name"
  mkdir -p "$BROKER_DIR/data"
  node "$CLI" serve --host 127.0.0.1 --port 0 --http-port 0 --data-dir "$BROKER_DIR/data" \
    >"$BROKER_DIR/stdout" 2>"$BROKER_DIR/stderr" &
  BROKER_PID=$!
  BROKER_PORT=""
  for _ in $(seq 1 150); do
    BROKER_PORT="$(sed -n 's/^samsa listening on [^:]*:\([0-9][0-9]*\).*/\1/p' "$BROKER_DIR/stdout" | head -n1)"
    # The HTTP server (console, /admin/ fault injection): "http=HOST:PORT" on the same line.
    BROKER_HTTP="$(sed -n 's/^samsa listening on .* http=\([^ ]*\).*/\1/p' "$BROKER_DIR/stdout" | head -n1)"
    [ -n "$BROKER_PORT" ] && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "  broker did not start (no 'samsa listening on' line within 15s)"
  echo "  --- broker stdout"; tail -n 20 "$BROKER_DIR/stdout" | sed 's/^/  | /'
  echo "  --- broker stderr"; tail -n 40 "$BROKER_DIR/stderr" | sed 's/^/  | /'
  stop_broker
  return 1
}

# Suites are discovered: every kcat/test_*.py and python/test_*.py is one suite, named after
# its file (test_confluent_kafka_groups.py -> confluent-kafka-groups). The name's client
# prefix (kcat, confluent-kafka, kafka-python) says which client it needs.
suite_file() {
  local stem="test_${1//-/_}.py"
  for dir in kcat python; do
    if [ -f "$HERE/$dir/$stem" ]; then echo "$HERE/$dir/$stem"; return; fi
  done
}
client_of() {
  case "$1" in
    kcat|kcat-*) echo kcat ;;
    confluent-kafka|confluent-kafka-*) echo confluent-kafka ;;
    kafka-python|kafka-python-*) echo kafka-python ;;
  esac
}
client_present() {
  case "$(client_of "$1")" in
    kcat) command -v kcat >/dev/null 2>&1 && [ -x "$PY" ] ;;
    confluent-kafka) [ -x "$PY" ] && "$PY" -c 'import confluent_kafka' >/dev/null 2>&1 ;;
    kafka-python) [ -x "$PY" ] && "$PY" -c 'import kafka' >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
client_hint() {
  case "$(client_of "$1")" in
    kcat) echo "kcat (apt-get install kcat) and $PY" ;;
    confluent-kafka) echo "confluent_kafka for $PY (apt-get install python3-confluent-kafka)" ;;
    kafka-python) echo "kafka for $PY (apt-get install python3-kafka)" ;;
  esac
}
suite_cmd() {
  local file
  file="$(suite_file "$1")"
  [ -n "$file" ] && [ -n "$(client_of "$1")" ] && echo "$PY $file"
}

ALL_SUITES=()
for f in "$HERE"/kcat/test_*.py "$HERE"/python/test_*.py; do
  [ -f "$f" ] || continue
  name="$(basename "$f" .py)"; name="${name#test_}"; name="${name//_/-}"
  [ -n "$(client_of "$name")" ] && ALL_SUITES+=("$name")
done
if [ $# -gt 0 ]; then SUITES=("$@"); else SUITES=("${ALL_SUITES[@]}"); fi

if [ ! -f "$CLI" ]; then
  echo "compat: $CLI is missing: run 'npm run build' first"
  echo "0 passed, ${#SUITES[@]} failed, 0 skipped"
  exit 1
fi

passed=0; failed=0; skipped=0
SUMMARY=()
started=$SECONDS

for suite in "${SUITES[@]}"; do
  echo "=== compat suite: $suite"
  if [ -z "$(suite_cmd "$suite")" ]; then
    echo "  unknown suite '$suite' (known: ${ALL_SUITES[*]})"
    failed=$((failed + 1)); SUMMARY+=("FAIL  $suite (unknown suite)")
    continue
  fi
  if ! client_present "$suite"; then
    if [ "$REQUIRE" = "1" ]; then
      echo "  FAILED: client missing: $(client_hint "$suite") (SAMSA_REQUIRE_CLIENTS=1)"
      failed=$((failed + 1)); SUMMARY+=("FAIL  $suite (client missing: $(client_hint "$suite"))")
    else
      echo "  SKIPPED: client missing: $(client_hint "$suite")"
      skipped=$((skipped + 1)); SUMMARY+=("SKIP  $suite (client missing: $(client_hint "$suite"))")
    fi
    continue
  fi
  if ! start_broker "$suite"; then
    failed=$((failed + 1)); SUMMARY+=("FAIL  $suite (broker did not start)")
    continue
  fi
  t0=$SECONDS
  # In the background + wait, so a signal to this script is handled at once (trap).
  # shellcheck disable=SC2046
  SAMSA_BOOTSTRAP="127.0.0.1:$BROKER_PORT" SAMSA_HTTP="$BROKER_HTTP" SAMSA_DATA_DIR="$BROKER_DIR/data" PYTHONDONTWRITEBYTECODE=1 \
    timeout --kill-after=5 "$SUITE_TIMEOUT" $(suite_cmd "$suite") &
  SUITE_PID=$!
  wait "$SUITE_PID"
  rc=$?
  SUITE_PID=""
  alive=1
  kill -0 "$BROKER_PID" 2>/dev/null || alive=0
  stop_broker
  why=""
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why="suite timed out after ${SUITE_TIMEOUT}s"
  elif [ "$rc" != 0 ]; then why="suite exited with $rc"; fi
  if [ "$alive" = 0 ]; then why="${why:+$why; }broker process died during the suite (exit $BROKER_EXIT)"
  elif [ "$BROKER_EXIT" != 0 ]; then why="${why:+$why; }broker did not shut down cleanly on SIGTERM (exit $BROKER_EXIT)"; fi
  if [ -n "$why" ]; then
    echo "  FAILED: $why"
    if [ -s "$BROKER_DIR/stderr" ]; then
      echo "  --- broker stderr (last 40 lines)"; tail -n 40 "$BROKER_DIR/stderr" | sed 's/^/  | /'
    fi
    failed=$((failed + 1)); SUMMARY+=("FAIL  $suite ($why, $((SECONDS - t0))s)")
  else
    passed=$((passed + 1)); SUMMARY+=("ok    $suite ($((SECONDS - t0))s)")
  fi
done

echo
echo "=== compat summary ($((SECONDS - started))s)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
