/* bx_embed: files compiled into the binary (SQL migrations, named queries, contracts). */
#ifndef BX_EMBED_H
#define BX_EMBED_H
#include <stddef.h>

typedef struct {
    const char *name; /* file name without directory, e.g. "0001_foundation.sql" */
    const char *data; /* NUL-terminated contents, static storage */
    size_t len;       /* length in bytes, without the NUL */
} bx_embed_t;

/* Arrays end with an entry whose name is NULL; sorted by file name. */
extern const bx_embed_t bx_sql_migrations[];
extern const bx_embed_t bx_sql_queries[];
extern const bx_embed_t bx_contracts[];
extern const bx_embed_t bx_web[]; /* web/: pages the frontdoor serves */

/* Returns the entry called name in table, or NULL. */
const bx_embed_t *bx_embed_find(const bx_embed_t *table, const char *name);

#endif
