# Accounts suites: argon2id passwords, EdDSA JWTs (with a PyJWT interoperability check
# that needs python3-jwt and python3-cryptography), and accounts over real HTTP.
bx_add_suite(test_password SOURCES test_password.c)
bx_add_suite(test_jwt SOURCES test_jwt.c)
bx_add_suite(it_accounts SOURCES it_accounts.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 400)
