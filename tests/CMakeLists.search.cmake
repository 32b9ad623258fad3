# Search suites: the event search and the index worker over real HTTP, broker and workers.
bx_add_suite(it_search SOURCES it_search.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
