# The cart on the hold: seats and GA units added to and removed from a hold, a pending
# booking freezing it, the live feed from the hold pool, admission stored with the hold
# (it_cart). Ports 26800-26899, database cart.
bx_add_suite(it_cart SOURCES it_cart.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 300)
