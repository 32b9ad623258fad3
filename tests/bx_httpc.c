/* bx_httpc: libcurl-backed HTTP calls for integration tests. */
#include "bx_httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *buf;
    size_t len;
} s_buf_t;

static size_t s_write(char *p, size_t size, size_t n, void *ud)
{
    s_buf_t *b = ud;
    size_t add = size * n;
    char *grown = realloc(b->buf, b->len + add + 1);
    if (!grown)
        return 0;
    b->buf = grown;
    memcpy(b->buf + b->len, p, add);
    b->len += add;
    b->buf[b->len] = '\0';
    return add;
}

bx_httpc_resp_t bx_httpc(const char *method, const char *url, const char *const *headers,
                         const char *body, size_t len)
{
    bx_httpc_resp_t r = {0};
    s_buf_t hb = {0}, bb = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *hl = NULL;
    int expect = 0;
    for (const char *const *h = headers; h && *h; h++) {
        hl = curl_slist_append(hl, *h);
        expect |= !strncasecmp(*h, "Expect:", 7);
    }
    /* no "Expect: 100-continue" unless the caller asks for it (a test of a refused large
     * body does: the server answers before the body is sent, instead of racing it) */
    if (!expect)
        hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    /* a server may answer (413) and close while the body is still on its way: the status
     * it sent counts even when sending the rest then failed */
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r.headers = hb.buf ? hb.buf : strdup("");
    r.body = bb.buf ? bb.buf : strdup("");
    r.len = bb.len;
    r.json = json_loadb(r.body, r.len, 0, NULL);
    return r;
}

bx_httpc_resp_t bx_httpc_json(const char *method, const char *url, const char *token,
                              const char *body, const char *const *extra)
{
    const char *h[24];
    char auth[4200];
    int n = 0;
    if (body)
        h[n++] = "Content-Type: application/json";
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    for (const char *const *e = extra; e && *e && n < 23; e++)
        h[n++] = *e;
    h[n] = NULL;
    return bx_httpc(method, url, h, body, body ? strlen(body) : 0);
}

int bx_httpc_header(const bx_httpc_resp_t *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p = eol ? eol + 2 : NULL;
    }
    return 0;
}

void bx_httpc_free(bx_httpc_resp_t *r)
{
    free(r->headers);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}
