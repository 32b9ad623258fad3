# Frontdoor suites: unit tests of its modules and the HTTP integration suite.
add_library(bxhttpc STATIC bx_httpc.c)
target_include_directories(bxhttpc PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(bxhttpc PUBLIC PkgConfig::CURL PkgConfig::JANSSON)

bx_add_suite(it_frontdoor SOURCES it_frontdoor.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
