#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages boxoffice needs to build, test and run.
# Asks apt nothing when every package is already installed, so a second run takes
# well under a second.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BX_PACKAGES=(
    # toolchain
    build-essential cmake pkg-config
    # libraries the code links
    libmicrohttpd-dev libjansson-dev libczmq-dev libzmq3-dev libpq-dev libhiredis-dev
    libcurl4-openssl-dev libssl-dev libargon2-dev zlib1g-dev libqrencode-dev
    # unit test framework
    check libsubunit-dev
    # servers the project starts in its own folders
    postgresql postgresql-contrib redis-server
    # benchmarks and the tests' outside tools (JWT checks, QR decoding, SMTP sink, HTTP)
    wrk nginx-light python3-jwt python3-cryptography zbar-tools python3-aiosmtpd
    curl ca-certificates
)

missing=()
for pkg in "${BX_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    bx_say "all ${#BX_PACKAGES[@]} Debian packages are installed"
    exit 0
fi

bx_need_root
bx_say "installing ${#missing[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
bx_say "packages installed"
