/* bx_hold_expiry: turns due holds into expire jobs (outbox, service hold) every tick. */
#include "bx_hold_expiry.h"

#include <stdlib.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"

#define S_BATCH        "500" /* holds per statement */
#define S_BATCH_N      500
#define S_ROUNDS       10   /* statements per tick at most, so a tick stays short */
#define S_RECONNECT_MS 2000 /* between connect attempts while PostgreSQL is away */

static int s_connected(bx_hold_expiry_t *self)
{
    if (self->pg)
        return 1;
    if (bx_mono_ms() < self->retry_at)
        return 0;
    self->pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
    if (!self->pg) {
        self->retry_at = (long)bx_mono_ms() + S_RECONNECT_MS;
        return 0;
    }
    /* heartbeats wait for the tick: never let one statement hold it up for long */
    (void)bx_pg_exec(self->pg, "SET statement_timeout = 2000");
    return 1;
}

void bx_hold_expiry_tick(void *arg)
{
    bx_hold_expiry_t *self = arg;
    const char *p[] = {S_BATCH};
    int n = S_BATCH_N;
    bx_err_t err = BX_OK;
    for (int round = 0; n == S_BATCH_N && round < S_ROUNDS && s_connected(self); round++) {
        PGresult *res = bx_pg_query(self->pg, "hold_expiry_due", 1, p, &err);
        n = res ? PQntuples(res) : 0;
        self->queued += n;
        if (n)
            BX_INFO("queued %d expiry jobs (up to 100 due holds each)", n);
        PQclear(res);
    }
    if (err != BX_OK && self->pg) {
        BX_WARN("expiry sweep failed: %s", bx_pg_error(self->pg));
        if (PQstatus(bx_pg_conn(self->pg)) == CONNECTION_BAD)
            bx_pg_destroy(&self->pg);
    }
}

void bx_hold_expiry_close(bx_hold_expiry_t *self)
{
    bx_pg_destroy(&self->pg);
}
