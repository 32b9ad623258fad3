/* bx_embed: lookup in the compiled-in file tables. */
#include "bx_embed.h"

#include <string.h>

const bx_embed_t *bx_embed_find(const bx_embed_t *table, const char *name)
{
    for (const bx_embed_t *e = table; e && e->name; e++)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}
