# Media and content suites: the sniffer (unit), uploads, content, the demo and bench data
# generator over real HTTP and PostgreSQL (integration, ports 26100-26199), and the
# libFuzzer target of the sniffer when configured with -DBX_FUZZ=ON and clang.
bx_add_suite(test_imgsniff SOURCES test_imgsniff.c bx_samples.c)
bx_add_suite(it_media SOURCES it_media.c bx_samples.c INTEGRATION LIBS bxhttpc
  ENV BX_TMP_DIR=${CMAKE_CURRENT_BINARY_DIR} TIMEOUT 600)

option(BX_FUZZ "build the libFuzzer targets (needs clang)" OFF)
if(BX_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BX_FUZZ needs clang: configure with -DCMAKE_C_COMPILER=clang")
  endif()
  add_executable(fuzz_imgsniff fuzz_imgsniff.c ${PROJECT_SOURCE_DIR}/common/bx_imgsniff.c)
  target_include_directories(fuzz_imgsniff PRIVATE ${PROJECT_SOURCE_DIR}/common)
  target_compile_options(fuzz_imgsniff PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_imgsniff PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_imgsniff PRIVATE PkgConfig::ZLIB m)
endif()
