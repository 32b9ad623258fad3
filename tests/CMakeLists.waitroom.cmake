# Waiting room, waitlist and live inventory stream: frontdoor, broker, scheduler and
# bx-worker-waitlist over real HTTP, PostgreSQL and Redis (ports 26300-26399).
bx_add_suite(it_waitroom SOURCES it_waitroom.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 600)
bx_add_suite(test_wroom SOURCES test_wroom.c)
