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
