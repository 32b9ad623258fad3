/* bx_config: the one configuration table of every boxoffice process. Values come from
 * the defaults below, then an optional file (KEY=value lines, path in BOXOFFICE_CONFIG),
 * then BOXOFFICE_<KEY> environment variables (upper case). Validated at start-up. */
#ifndef BX_CONFIG_H
#define BX_CONFIG_H

#include "bx_err.h"

/* Loads and validates the configuration. On error a message naming the key and the
 * reason is written to stderr and a non-zero error is returned; nothing is kept. */
bx_err_t bx_config_load(void);

/* Returns the value of key (borrowed, valid until exit). Aborts on an unknown key: that is a
 * programmer error. */
const char *bx_config_str(const char *key);

/* Returns the integer value of key (validated against its bounds at load). */
long bx_config_int(const char *key);

/* Overrides key for this process (tests, command-line flags). Returns BX_EINVAL when the
 * value is out of bounds or the key unknown. */
bx_err_t bx_config_set(const char *key, const char *value);

/* Logs the effective configuration, secrets redacted, one line. */
void bx_config_log(void);

#endif
