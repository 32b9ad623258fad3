/* fd_audit: one audit_log row per critical operation: who, what, which object, from
 * where. Best effort after the fact; a handler that needs the record to commit with its
 * change writes audit_insert inside its own transaction instead. */
#include "fd_internal.h"

#include <stdlib.h>

#include "bx_log.h"

void fd_audit(fd_req_t *req, const char *action, const char *object_type, const char *object_id,
              json_t *detail)
{
    char *text = detail ? bx_json_dump(detail) : NULL;
    json_decref(detail);
    const char *actor = req->who.authenticated ? req->who.user_id : NULL;
    const char *p[] = {actor, action, object_type, object_id, req->ip, text};
    if (!req->t->pg || bx_pg_run(req->t->pg, "audit_insert", 6, p) != BX_OK)
        BX_WARN("could not write audit record %s", action);
    free(text);
}
