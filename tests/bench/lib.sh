# Shared by the benchmarks: made-up keys the mock and the runner agree on,
# a scratch folder, and starting (or restarting) the mock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
nb="$build/novabatch"
[ -x "$nb" ] || { echo "bench: build first ($nb is missing)" >&2; exit 2; }

export AWS_ACCESS_KEY_ID=AKIDNOVABATCHBENCH
export AWS_SECRET_ACCESS_KEY=benchSecretKey/NotARealOne
unset AWS_SESSION_TOKEN
work=$(mktemp -d)
mock=
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null; rm -rf "$work"' EXIT

# start_mock [mock options]: (re)starts the mock; sets url.
start_mock() {
  if [ -n "$mock" ]; then
    kill "$mock"
    wait "$mock" 2>/dev/null || true
  fi
  : >"$work/mock.out"
  "$nb" mock --port 0 "$@" >"$work/mock.out" 2>/dev/null &
  mock=$!
  for _ in $(seq 1 250); do
    grep -q '^LISTENING ' "$work/mock.out" && break
    sleep 0.02
  done
  url="http://127.0.0.1:$(sed -n 's/^LISTENING //p' "$work/mock.out")"
}

# Runs novabatch and prints "wall_s user_s sys_s maxrss_kb" from wait4.
measure() {
  /usr/bin/python3 - "$@" <<'PY'
import os, sys, time
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1); os.dup2(fd, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
print(f"{wall:.3f} {ru.ru_utime:.3f} {ru.ru_stime:.3f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
PY
}
