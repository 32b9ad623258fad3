# Delivery suites (docs/delivery.md): the engine's pure parts (unit) and e-mail, SMS,
# push, partner webhooks and result callbacks end to end against a real SMTP server
# (aiosmtpd), the bx-sandbox providers and independent Python verifiers. Ports 26400-26499.
bx_add_suite(test_delivery SOURCES test_delivery.c LIBS bxdelivery)
bx_add_suite(it_delivery SOURCES it_delivery.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 600)
