# The booking pipeline end to end (it_booking; ports 27000-27002): hold → checkout →
# payment (bx-sandbox as the gateway) → tickets → check-in → cancellation and refunds.
bx_add_suite(it_booking SOURCES it_booking.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
