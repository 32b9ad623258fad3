/* bx_ssrf: refuses outbound URLs (partner webhooks, result callbacks, push endpoints)
 * that lead into our own network. An address is refused when it is loopback, private
 * (RFC 1918, ULA), link-local (cloud metadata 169.254.169.254 among them), CGNAT,
 * multicast, unspecified, reserved or documentation space, also when it hides in an
 * IPv4-mapped, NAT64 or 6to4 IPv6 address, unless a CIDR of the allow-list covers it.
 * URLs are checked when they are registered (every address the host resolves to must
 * pass) and again at every connect (bx_ssrf_addr_ok from a curl open-socket callback),
 * so a DNS answer that changes in between cannot point a request inward.
 * A policy is immutable once made and may be read by any thread. */
#ifndef BX_SSRF_H
#define BX_SSRF_H

#include <stddef.h>
#include <sys/socket.h>

#include "bx_err.h"

typedef struct bx_ssrf bx_ssrf_t;

/* Makes a policy from a comma-separated list of CIDRs ("127.0.0.1/32,::1/128"; a bare
 * address means a single host). Returns NULL when an entry is malformed (reason in why). */
bx_ssrf_t *bx_ssrf_new(const char *allow_cidrs, char *why, size_t cap);

/* Frees the policy; *self_p becomes NULL. Safe on NULL. */
void bx_ssrf_destroy(bx_ssrf_t **self_p);

/* 1 if a connection to sa may be made under the policy. */
int bx_ssrf_addr_ok(const bx_ssrf_t *self, const struct sockaddr *sa);

/* Checks url: an absolute http or https URL without user information, at most 2048
 * bytes, whose host resolves only to permitted addresses. Returns BX_OK, or BX_EINVAL
 * with a lower-case reason in why (cap bytes) that names no internal address. */
bx_err_t bx_ssrf_check_url(const bx_ssrf_t *self, const char *url, char *why, size_t cap);

#endif
