/* fd_webhooks: partner webhook endpoints (register, list, read, change, delete, rotate the
 * signing secret with an overlap), their delivery log and replay, the event-type list,
 * the public keys of result callbacks, and the admin trigger of partner events. Also the
 * frontdoor's SSRF policy, shared with fd_notify (push endpoints) and fd_requests
 * (Callback-Url). */
#ifndef FD_WEBHOOKS_H
#define FD_WEBHOOKS_H

#include "bx_ssrf.h"
#include "fd.h"

/* The SSRF policy of this process (built once from delivery_allow_cidrs; read-only).
 * NULL only when the configuration is invalid (then every URL is refused). */
const bx_ssrf_t *fd_ssrf(void);

/* Checks url against the policy; on refusal answers 422 naming pointer and returns 0. */
int fd_ssrf_url_ok(fd_req_t *req, const char *url, const char *pointer);

#endif
