/* fuzz_imgsniff: libFuzzer target of bx_imgsniff: any bytes get an answer without reading
 * outside them (ASan), without undefined behaviour (UBSan), and the answer is coherent.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBX_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_imgsniff
 *   mkdir -p corpus && build-fuzz/tests/fuzz_imgsniff corpus -max_total_time=300
 *
 * Seed the corpus with a few real files of each format for deeper coverage. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bx_imgsniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bx_sniff_t s;
    const char *why = NULL;
    bx_err_t err = bx_imgsniff(data, size, &s, &why);
    int coherent = (err == BX_OK && s.kind != BX_SNIFF_UNKNOWN &&
                    (s.is_video || (s.width > 0 && s.height > 0))) ||
                   (err == BX_EMEDIATYPE && s.kind == BX_SNIFF_UNKNOWN && why) ||
                   (err == BX_EUNPROCESSABLE && s.kind != BX_SNIFF_UNKNOWN && why);
    if (!coherent || s.duration_ms < -1)
        abort();
    return 0;
}
