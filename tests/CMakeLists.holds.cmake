# Hold suites: the seat view (unit), holds over real HTTP and the pipeline (it_holds), and
# the oversell race with hold workers killed mid-race (it_oversell). Ports 26200-26299.
add_library(bxholdsfixture STATIC holds_fixture.c)
target_link_libraries(bxholdsfixture PUBLIC bxhttpc bxharness bxcommon PkgConfig::CHECK)
bx_add_suite(test_hold_view SOURCES test_hold_view.c LIBS bxhold)
bx_add_suite(it_holds SOURCES it_holds.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
bx_add_suite(it_oversell SOURCES it_oversell.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 300)
