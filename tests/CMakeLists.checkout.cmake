# Checkout suites: pricing (unit) and the checkout pool, promo codes and bookings over real
# HTTP (it_checkout). Ports 26500-26599, databases checkout*.
bx_add_suite(test_price SOURCES test_price.c)
bx_add_suite(test_pan SOURCES test_pan.c)
bx_add_suite(it_checkout SOURCES it_checkout.c INTEGRATION LIBS bxholdsfixture
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
