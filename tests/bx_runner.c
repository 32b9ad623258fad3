/* bx_runner: main() of every Check suite that defines bx_suite(). Verbosity follows
 * CK_VERBOSITY (silent, minimal, normal, verbose); fork mode follows CK_FORK. */
#include <stdlib.h>

#include "bx_suite.h"

int main(void)
{
    SRunner *sr = srunner_create(bx_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
