/* pay_sweep: the payment pool's tick: once a second, payments left unknown or processing
 * longer than payment_settle_after_s, or waiting for a customer action past their
 * booking's due time, get a settle job (through the outbox: durable, one per payment per
 * period). The settle job asks the gateway; nothing here talks to a gateway. */
#include <stdio.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_util.h"
#include "pay_worker.h"

typedef struct {
    bx_pg_t *pg;     /* the main thread's own connection, made on first use */
    int64_t next_ms; /* when the next sweep is due */
} s_sweep_t;

static s_sweep_t s_state;

void pay_sweep_tick(void *arg)
{
    (void)arg;
    char secs[16];
    int64_t now = bx_mono_ms();
    if (now < s_state.next_ms)
        return;
    s_state.next_ms = now + 1000;
    if (!s_state.pg)
        s_state.pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
    if (!s_state.pg)
        return;
    snprintf(secs, sizeof secs, "%ld", bx_config_int("payment_settle_after_s"));
    const char *a[] = {secs};
    bx_err_t err;
    PGresult *res = bx_pg_query(s_state.pg, "pay_sweep", 1, a, &err);
    if (!res)
        BX_WARN("payment sweep failed: %s", bx_pg_error(s_state.pg));
    else if (PQntuples(res) > 0)
        BX_INFO("payment sweep: %d payments to settle", PQntuples(res));
    PQclear(res);
}
