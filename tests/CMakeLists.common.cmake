# Suites of the common library and of bxctl.
bx_add_suite(test_err SOURCES test_err.c)
bx_add_suite(test_util SOURCES test_util.c)
bx_add_suite(test_log SOURCES test_log.c)
bx_add_suite(test_config SOURCES test_config.c)
bx_add_suite(it_migrate SOURCES it_migrate.c INTEGRATION)
bx_add_suite(it_bxctl SOURCES it_bxctl.c INTEGRATION)

# The deploy scripts parse, and pass shellcheck where it is installed (it is not one of
# the packages deploy/deps.sh installs, so its absence is reported, not failed).
add_test(NAME deploy_scripts_lint
  COMMAND bash -c "set -e; for f in deploy/*.sh .ci/run; do bash -n \"$f\"; done; \
if command -v shellcheck >/dev/null; then shellcheck -x deploy/*.sh .ci/run; \
else echo 'shellcheck not installed: syntax checked only'; fi"
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(deploy_scripts_lint PROPERTIES LABELS unit TIMEOUT 60)
