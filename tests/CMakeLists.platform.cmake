# Suites of the platform pieces every process shares: metrics (bx_metrics) and the
# frontdoor's rate limiter (fd_ratelimit, included by its suite to reach its statics).
bx_add_suite(test_metrics SOURCES test_metrics.c bx_httpc.c)
bx_add_suite(it_ratelimit SOURCES it_ratelimit.c INTEGRATION TIMEOUT 240)
