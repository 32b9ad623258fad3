#!/usr/bin/env bash
# build.sh: configures and builds boxoffice with CMake.
#   build.sh              -> build/      (RelWithDebInfo)
#   build.sh --sanitize   -> build-asan/ (same, with ASan + UBSan)
# Binaries land in <build>/bin. Incremental: a second run only rebuilds what changed.
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=build
sanitize=OFF
for arg in "$@"; do
    case $arg in
    --sanitize)
        dir=build-asan
        sanitize=ON
        ;;
    -h | --help)
        echo "usage: $BX_ME [--sanitize]"
        exit 0
        ;;
    *) bx_die "unknown argument $arg (usage: $BX_ME [--sanitize])" ;;
    esac
done

bx_say "configuring $dir (sanitizers $sanitize)"
cmake -S "$BX_ROOT" -B "$BX_ROOT/$dir" -DBX_SANITIZE="$sanitize" >/dev/null
bx_say "building $dir with $(nproc) jobs"
cmake --build "$BX_ROOT/$dir" -j"$(nproc)"
shopt -s nullglob
bins=("$BX_ROOT/$dir"/bin/*)
bx_say "built $dir/bin: ${bins[*]##*/}"
