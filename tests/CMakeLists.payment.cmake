# Payment suites: the adapters' pure parts (test_payment), and the payment pool with its
# gateway adapters and the sandbox gateways over real HTTP (it_payment; ports 26600-26602).
# CK_FORK=no: the crash test kills and restarts a worker, and the fixture must see it.
bx_add_suite(it_payment SOURCES it_payment.c INTEGRATION LIBS bxholdsfixture PkgConfig::SSL
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} CK_FORK=no TIMEOUT 400)
bx_add_suite(test_payment SOURCES test_payment.c LIBS bxpayment)
