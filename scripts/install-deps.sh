#!/usr/bin/env bash
# Installs the Debian packages Nucleo needs, only those missing; safe to re-run.
#   scripts/install-deps.sh          build and run the server
#   scripts/install-deps.sh --test   also what the test suite needs (PostgreSQL server, GoogleTest)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libpoco-dev libsoci-dev libpq-dev libsqlite3-dev libssl-dev
  libboost-dev nlohmann-json3-dev libphonenumber-dev libvalijson-dev libhowardhinnant-date-dev tzdata
  libgmime-3.0-dev libcurl4-openssl-dev
  libkainjow-mustache-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core
  libxgboost-dev libargon2-dev
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(googletest libgtest-dev libgmock-dev postgresql-15 pgbouncer haproxy curl python3 clang-14 libclang-rt-14-dev openssl
    python3-aiosmtpd dovecot-imapd poppler-utils chromium)
  # npm (the API contract tools, tests/tools): the machine's own Node.js when present, else Debian's.
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
