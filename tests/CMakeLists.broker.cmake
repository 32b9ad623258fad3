# Suites of the pipeline: the BXP/1 codec, the broker driven in-process, the worker runtime
# in-process against PostgreSQL, and the whole pipeline (broker, echo workers, scheduler)
# as real processes. Ports: test_broker 25600-25629, it_pipeline 25630-25649, it_worker
# 25650-25659.
bx_add_suite(test_wire SOURCES test_wire.c TIMEOUT 60)
bx_add_suite(test_broker SOURCES test_broker.c LIBS bxbroker TIMEOUT 120)
bx_add_suite(it_worker SOURCES it_worker.c INTEGRATION LIBS bxworker TIMEOUT 120)
bx_add_suite(it_pipeline SOURCES it_pipeline.c INTEGRATION TIMEOUT 300
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(it_pipeline bx-broker bx-worker-echo bx-worker-scheduler bxctl)
add_dependencies(it_worker bxctl)
