/* bx_suite: the one runner shared by every Check suite. A suite file defines bx_suite()
 * and links bxharness, whose main() (tests/bx_runner.c) runs it and exits non-zero when a
 * test failed. A suite that needs its own main() may define one instead. */
#ifndef BX_SUITE_H
#define BX_SUITE_H

#include <check.h>

/* Returns the suite to run (owned by the runner). */
Suite *bx_suite(void);

#endif
