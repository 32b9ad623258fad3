/* bxctl ticket-verify: verifies a ticket payload offline, as a scanner at a gate would,
 * against the published public keys (a JWK set file, the JWK set URL, or this
 * deployment's database) and optionally a revocation list; bxctl ticket-rotate: retires
 * the ticket signing key and makes a new one (old keys keep verifying). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bx_config.h"
#include "bx_ticket.h"
#include "bx_ticket_keys.h"
#include "bx_util.h"
#include "bxctl.h"

#define S_CMD        "ticket-verify"
#define S_FETCH_MAX  (1 << 20) /* largest key set or revocation list read, bytes */
#define S_INVALID    3         /* exit: the ticket does not verify */
#define S_REVOKED    4         /* exit: the ticket verifies but is revoked */

typedef struct {
    char *data; /* body so far */
    size_t len; /* bytes in data */
} s_buf_t;

static size_t s_write(char *p, size_t size, size_t n, void *arg)
{
    s_buf_t *b = arg;
    size_t add = size * n;
    if (b->len + add > S_FETCH_MAX)
        return 0;
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, p, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* The JSON document at an http(s) URL (10 s timeout, S_FETCH_MAX bytes), or NULL. */
static json_t *s_fetch(const char *url)
{
    s_buf_t b = {0};
    long status = 0;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    json_t *doc = rc == CURLE_OK && status == 200 && b.data ? json_loads(b.data, 0, NULL) : NULL;
    if (!doc)
        bxctl_err(S_CMD, "could not read %s: %s (HTTP %ld)", url,
                  rc ? curl_easy_strerror(rc) : "not a JSON document", status);
    free(b.data);
    return doc;
}

/* A JSON document from a file or an http(s) URL, or NULL after saying why. */
static json_t *s_load(const char *where)
{
    json_error_t e;
    if (!strncmp(where, "http://", 7) || !strncmp(where, "https://", 8))
        return s_fetch(where);
    json_t *doc = json_load_file(where, 0, &e);
    if (!doc)
        bxctl_err(S_CMD, "could not read %s: %s", where, e.text);
    return doc;
}

/* The public keys of this deployment's database as a JWK set, or NULL after saying why. */
static json_t *s_db_keys(void)
{
    json_t *jwks = NULL;
    bx_pg_t *pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
    bx_err_t err = pg ? bx_ticket_keys_jwks(pg, &jwks) : BX_EUNAVAILABLE;
    if (err)
        bxctl_err(S_CMD, "could not read the ticket keys from postgresql: %s", bx_err_str(err));
    bx_pg_destroy(&pg);
    return jwks;
}

/* 1 when the revocation list names the ticket. */
static int s_listed(json_t *list, const char *ticket)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(list, "revoked"), i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), ticket))
            return 1;
    }
    return 0;
}

static void s_print(const bx_ticket_claims_t *c)
{
    char issued[32];
    bx_time_rfc3339(c->issued, issued);
    printf("ticket  %s\nevent   %s\nseat    %s\nserial  %d\nissued  %s\nkid     %s\n", c->ticket_id,
           c->event_id, c->seat, c->serial, issued, c->kid);
}

/* Exit code for a verification result err, after printing it. */
static int s_verdict(bx_err_t err, const bx_ticket_claims_t *c, json_t *revoked)
{
    if (err == BX_EINVAL) {
        printf("invalid: not a boxoffice ticket payload\n");
        return S_INVALID;
    }
    s_print(c);
    if (err == BX_ENOTFOUND) {
        printf("invalid: no published key has kid %s\n", c->kid);
        return S_INVALID;
    }
    if (err) {
        printf("invalid: the signature does not verify\n");
        return S_INVALID;
    }
    if (revoked && s_listed(revoked, c->ticket_id)) {
        printf("revoked: the signature verifies but the ticket is on the revocation list\n");
        return S_REVOKED;
    }
    printf("valid: signature verifies%s\n", revoked ? ", not revoked" : "");
    return BXCTL_OK;
}

int bxctl_ticket_verify(int argc, char **argv)
{
    const char *payload = NULL, *keys = NULL, *rev = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--keys") && i + 1 < argc)
            keys = argv[++i];
        else if (!strcmp(argv[i], "--revoked") && i + 1 < argc)
            rev = argv[++i];
        else if (argv[i][0] != '-' && !payload)
            payload = argv[i];
        else
            payload = NULL, i = argc;
    }
    if (!payload) {
        fprintf(stderr, "usage: bxctl ticket-verify <payload> [--keys FILE|URL] [--revoked FILE|URL]\n");
        return BXCTL_USAGE;
    }
    json_t *jwks = keys ? s_load(keys) : s_db_keys();
    json_t *revoked = rev ? s_load(rev) : NULL;
    int rc = BXCTL_FAIL;
    if (jwks && (!rev || revoked)) {
        bx_ticket_claims_t c;
        rc = s_verdict(bx_ticket_verify_jwks(jwks, payload, &c), &c, revoked);
    }
    json_decref(jwks);
    json_decref(revoked);
    return rc;
}

int bxctl_ticket_rotate(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: bxctl ticket-rotate\n");
        return BXCTL_USAGE;
    }
    char old[17] = "";
    bx_ticket_key_t *key = NULL;
    bx_pg_t *pg = bx_pg_new(bx_config_str("pg_dsn"), 1);
    bx_err_t err = pg ? bx_ticket_keys_rotate(pg, old) : BX_EUNAVAILABLE;
    if (!err)
        err = bx_ticket_keys_signer(pg, &key);
    if (err)
        bxctl_err("ticket-rotate", "could not rotate the ticket key: %s", bx_err_str(err));
    else
        printf("retired %s, signing with %s\n", old[0] ? old : "(none)", bx_ticket_key_kid(key));
    bx_ticket_key_destroy(&key);
    bx_pg_destroy(&pg);
    return err ? BXCTL_FAIL : BXCTL_OK;
}
