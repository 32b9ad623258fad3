/* bx_ssrf: address classification, the allow-list, and URL checks with resolution. */
#include "bx_ssrf.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_util.h"

#define S_ALLOW_MAX 32
#define S_URL_MAX   2048

typedef struct {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network, 4 or 16 bytes used */
    int prefix;             /* prefix length */
} s_cidr_t;

struct bx_ssrf {
    s_cidr_t allow[S_ALLOW_MAX]; /* permitted despite the rules */
    int nallow;                  /* entries used */
};

/* IPv4 ranges that are never a partner's server. */
static const struct {
    uint32_t net;
    int prefix;
} s_v4_blocked[] = {
    {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
    {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0586300, 24}, {0xC0A80000, 16},
    {0xC6120000, 15}, {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
};

static int s_prefix_match(const unsigned char *a, const unsigned char *net, int prefix)
{
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, (size_t)full))
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static int s_v4_blocked_addr(const unsigned char *a)
{
    uint32_t v = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
    for (size_t i = 0; i < sizeof s_v4_blocked / sizeof s_v4_blocked[0]; i++) {
        uint32_t mask = s_v4_blocked[i].prefix ? 0xFFFFFFFFu << (32 - s_v4_blocked[i].prefix) : 0;
        if ((v & mask) == s_v4_blocked[i].net)
            return 1;
    }
    return 0;
}

/* IPv6: refuses unspecified, loopback, ULA, link- and site-local, multicast,
 * documentation, discard; IPv4 inside mapped, NAT64 and 6to4 forms is judged as IPv4. */
static int s_v6_blocked_addr(const unsigned char *a)
{
    static const unsigned char zero[16] = {0},
                               mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
                               nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1))
        return 1;
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12) || !memcmp(a, zero, 12))
        return s_v4_blocked_addr(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02)
        return s_v4_blocked_addr(a + 2);
    if ((a[0] & 0xFE) == 0xFC || a[0] == 0xFF)
        return 1;
    if (a[0] == 0xFE && (a[1] & 0xC0) >= 0x80)
        return 1; /* fe80::/10 link-local, fec0::/10 site-local */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8)
        return 1;
    return a[0] == 0x01 && !memcmp(a + 1, zero, 7);
}

static int s_parse_cidr(const char *text, s_cidr_t *c)
{
    char buf[64];
    size_t n = strlen(text);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, text, n + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    c->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(c->family, buf, c->addr) != 1)
        return 0;
    long max = c->family == AF_INET ? 32 : 128, p = max;
    if (slash && bx_parse_long(slash + 1, 0, max, &p) != BX_OK)
        return 0;
    c->prefix = (int)p;
    return 1;
}

bx_ssrf_t *bx_ssrf_new(const char *allow_cidrs, char *why, size_t cap)
{
    bx_ssrf_t *self = calloc(1, sizeof *self);
    char item[64];
    if (!self)
        return NULL;
    for (const char *p = allow_cidrs ? allow_cidrs : ""; *p;) {
        size_t n = strcspn(p, ",");
        while (n && (*p == ' ')) {
            p++;
            n--;
        }
        if (n >= sizeof item || self->nallow == S_ALLOW_MAX) {
            snprintf(why, cap, "allow-list entry too long or too many entries");
            goto fail;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (n && !s_parse_cidr(item, &self->allow[self->nallow++])) {
            snprintf(why, cap, "allow-list entry %s is not a CIDR", item);
            goto fail;
        }
        p += n + (p[n] == ',');
    }
    return self;
fail:
    free(self);
    return NULL;
}

void bx_ssrf_destroy(bx_ssrf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

static int s_allowed(const bx_ssrf_t *self, int family, const unsigned char *a)
{
    for (int i = 0; i < self->nallow; i++)
        if (self->allow[i].family == family &&
            s_prefix_match(a, self->allow[i].addr, self->allow[i].prefix))
            return 1;
    return 0;
}

int bx_ssrf_addr_ok(const bx_ssrf_t *self, const struct sockaddr *sa)
{
    const unsigned char *a;
    int blocked;
    if (!self || !sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        blocked = s_v4_blocked_addr(a);
    } else if (sa->sa_family == AF_INET6) {
        a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        blocked = s_v6_blocked_addr(a);
    } else {
        return 0;
    }
    return !blocked || s_allowed(self, sa->sa_family, a);
}

/* Splits url into host and port with the curl URL parser; refuses what is not a plain
 * http(s) URL. */
static bx_err_t s_parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                            char *why, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *p = NULL, *user = NULL;
    bx_err_t err = BX_EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        snprintf(why, cap, "not an absolute URL");
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_HOST, &h, 0);
    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT);
    if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https")))
        snprintf(why, cap, "only http and https URLs are accepted");
    else if (user)
        snprintf(why, cap, "URLs with user information are refused");
    else if (!h || !p || strlen(h) >= hcap || strlen(p) >= pcap)
        snprintf(why, cap, "the URL has no usable host");
    else
        err = BX_OK;
    if (!err) {
        /* IPv6 literals come bracketed; getaddrinfo wants them bare. */
        size_t n = strlen(h);
        int br = h[0] == '[' && n > 2 && h[n - 1] == ']';
        bx_strlcpy(host, h + br, br ? n - 1 : hcap);
        bx_strlcpy(port, p, pcap);
    }
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return err;
}

bx_err_t bx_ssrf_check_url(const bx_ssrf_t *self, const char *url, char *why, size_t cap)
{
    char host[256], port[8];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (!url || strlen(url) > S_URL_MAX) {
        snprintf(why, cap, "the URL is missing or longer than %d bytes", S_URL_MAX);
        return BX_EINVAL;
    }
    bx_err_t err = s_parse_url(url, host, sizeof host, port, sizeof port, why, cap);
    if (err)
        return err;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) {
        snprintf(why, cap, "the host of the URL does not resolve");
        return BX_EINVAL;
    }
    for (struct addrinfo *ai = res; ai && !err; ai = ai->ai_next) {
        if (!bx_ssrf_addr_ok(self, ai->ai_addr)) {
            snprintf(why, cap,
                     "the URL resolves to a loopback, private, link-local or reserved "
                     "address, which is not allowed");
            err = BX_EINVAL;
        }
    }
    freeaddrinfo(res);
    return err;
}
