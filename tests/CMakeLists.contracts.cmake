# Suites of the contracts: contracts/openapi.json against the frontdoor's route tables.
bx_add_suite(test_openapi SOURCES test_openapi.c LIBS bxfrontdoor)
