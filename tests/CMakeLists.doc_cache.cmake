# Event and venue document cache (Redis) over real HTTP. Ports 25960-25969, database doc_cache.
bx_add_suite(it_doc_cache SOURCES it_doc_cache.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 300)
