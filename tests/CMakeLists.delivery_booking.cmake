# What the delivery engine sends from booking data (docs/delivery.md "What is sent"): 24 h
# reminders, hold expiry warnings, event changes to every ticket holder, QR tickets by
# mail, partner inventory events, paged fan-out. Ports 26900-26999, database dlvbook.
bx_add_suite(it_delivery_booking SOURCES it_delivery_booking.c INTEGRATION
  LIBS bxholdsfixture ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 600)
