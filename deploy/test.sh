#!/usr/bin/env bash
# test.sh: runs the whole test suite, from a fresh Debian 12 as root:
# Debian packages -> normal build (build/) -> ctest -> sanitizer build (build-asan/,
# ASan + UBSan) -> ctest again with leak detection -> a summary. ctest starts and stops
# its own PostgreSQL and Redis through the testenv fixture (deploy/testenv.sh), reusing
# ones that already answer on the test ports. Exits non-zero when anything failed.
#   test.sh [ctest arguments...]     e.g. test.sh -L unit, test.sh -R it_migrate
set -euo pipefail
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

here=$(dirname "${BASH_SOURCE[0]}")
jobs=$(nproc)
failed=0
summary=()
total_passed=0
total_failed=0

# Runs ctest in build folder $1 (label $2), echoing its output; records the result.
run_ctest() {
    local name=$1 dir=$BX_ROOT/$1 label=$2 log rc line passed=0 failed_n=0 total
    shift 2
    log=$dir/ctest.log
    bx_say "running the $label suite in $name"
    set +e
    (cd "$dir" && ctest --output-on-failure --no-tests=error -j"$jobs" "$@") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        failed_n=${BASH_REMATCH[1]}
        total=${BASH_REMATCH[2]}
        passed=$((total - failed_n))
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed_n))
    if [ "$rc" -ne 0 ]; then
        failed=1
        [ "$failed_n" -gt 0 ] || total_failed=$((total_failed + 1))
        summary+=("$label: FAILED (ctest exit $rc) ${line:-no ctest summary}")
    else
        summary+=("$label: ok, $line")
    fi
}

# Builds with build.sh args $2..; on failure records it under label $1. Returns 1 then.
run_build() {
    local label=$1
    shift
    if bash "$here/build.sh" "$@"; then
        return 0
    fi
    failed=1
    total_failed=$((total_failed + 1))
    summary+=("$label: BUILD FAILED")
    return 1
}

bash "$here/deps.sh"

if run_build normal; then
    run_ctest build normal "$@"
    if run_build sanitize --sanitize; then
        # The sanitizer options come from the test definitions (tests/CMakeLists.txt), so
        # a developer running ctest in build-asan/ by hand gets the same checks.
        run_ctest build-asan "sanitize (ASan+UBSan)" "$@"
    fi
else
    summary+=("sanitize: skipped (the normal build failed)")
fi

echo
echo "test.sh summary"
for s in "${summary[@]}"; do
    echo "  $s"
done
echo "summary: $total_passed passed, $total_failed failed"
exit $failed
