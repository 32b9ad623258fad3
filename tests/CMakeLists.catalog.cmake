# Catalog suites: venues, halls and layouts, events, series, tiers over real HTTP.
bx_add_suite(it_catalog SOURCES it_catalog.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
