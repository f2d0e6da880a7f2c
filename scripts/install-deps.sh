#!/usr/bin/env bash
# Installs the Debian packages novabatch needs to build, test and run its demo.
# Only what is missing is installed; the machines run as root (sudo is used
# when it is not root and is available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcurl4-openssl-dev libssl-dev libjansson-dev libuv1-dev libsqlite3-dev
  zlib1g-dev libinih-dev libmicrohttpd-dev libcmocka-dev
  sqlite3 python3 python3-botocore python3-jsonschema python3-junitparser openssl
  chromium  # renders report --format html in tests/integration/test_report_html.sh
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
