/* sbx_server: the sandbox's HTTP plumbing: a libmicrohttpd daemon (a thread per
 * connection, bounded connections and bodies), dispatch to the first module that claims
 * a request, and helpers every module uses (headers, JSON answers, basic auth, forms). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sbx.h"

static const sbx_module_t *const s_modules[] = {
    &sbx_control_module, &sbx_receiver_module, &sbx_twilio_module,
    &sbx_vonage_module,  &sbx_webpush_module,  &sbx_stripe_module,
    &sbx_razorpay_module, NULL,
};

typedef struct {
    char *body;    /* heap */
    size_t len;    /* bytes */
    int too_large; /* over SBX_BODY_MAX */
} s_conn_t;

const char *sbx_header(const sbx_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *sbx_query(const sbx_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void sbx_json(sbx_resp_t *resp, int status, json_t *doc)
{
    free(resp->body);
    resp->status = status;
    resp->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    resp->ctype = "application/json";
    json_decref(doc);
}

int sbx_basic_auth(const sbx_req_t *req, char *user, char *pass, size_t cap)
{
    const char *h = sbx_header(req, "Authorization");
    unsigned char dec[512];
    if (!h || strncasecmp(h, "Basic ", 6) || strlen(h + 6) > 600)
        return 0;
    int n = EVP_DecodeBlock(dec, (const unsigned char *)h + 6, (int)strlen(h + 6));
    if (n <= 0)
        return 0;
    while (n > 0 && dec[n - 1] == '\0')
        n--; /* padding decodes to zero bytes */
    dec[n] = '\0';
    char *colon = strchr((char *)dec, ':');
    if (!colon || (size_t)(colon - (char *)dec) >= cap || strlen(colon + 1) >= cap)
        return 0;
    *colon = '\0';
    snprintf(user, cap, "%s", (char *)dec);
    snprintf(pass, cap, "%s", colon + 1);
    return 1;
}

static int s_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int sbx_form_get(const char *body, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = body; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nlen && !strncmp(p, name, nlen) && p[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < n && o + 1 < cap; i++) {
                if (p[i] == '+')
                    out[o++] = ' ';
                else if (p[i] == '%' && i + 2 < n + 1 && s_hex(p[i + 1]) >= 0 &&
                         s_hex(p[i + 2]) >= 0) {
                    out[o++] = (char)(s_hex(p[i + 1]) * 16 + s_hex(p[i + 2]));
                    i += 2;
                } else
                    out[o++] = p[i];
            }
            out[o] = '\0';
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static enum MHD_Result s_answer(struct MHD_Connection *conn, sbx_resp_t *resp)
{
    const char *body = resp->body ? resp->body : "";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", resp->ctype ? resp->ctype : "application/json");
    if (resp->location[0])
        MHD_add_response_header(r, "Location", resp->location);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    free(resp->body);
    return ret;
}

static void s_dispatch(const sbx_req_t *req, sbx_resp_t *resp)
{
    for (int i = 0; s_modules[i]; i++) {
        if (s_modules[i]->claims(req->method, req->url)) {
            s_modules[i]->handle(req, resp);
            return;
        }
    }
    sbx_json(resp, 404, json_pack("{s:s}", "error", "sandbox: no module serves this path"));
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *size, void **ctx)
{
    (void)cls;
    (void)version;
    s_conn_t *c = *ctx;
    if (!c) {
        *ctx = calloc(1, sizeof *c);
        return *ctx ? MHD_YES : MHD_NO;
    }
    if (*size) {
        if (c->len + *size > SBX_BODY_MAX)
            c->too_large = 1;
        char *b = c->too_large ? NULL : realloc(c->body, c->len + *size + 1);
        if (b) {
            memcpy(b + c->len, data, *size);
            c->body = b;
            c->len += *size;
            c->body[c->len] = '\0';
        }
        *size = 0;
        return MHD_YES;
    }
    sbx_resp_t resp = {.status = 500, .ctype = "application/json"};
    sbx_req_t req = {conn, method, url, c->body ? c->body : "", c->len};
    if (c->too_large)
        sbx_json(&resp, 413, json_pack("{s:s}", "error", "sandbox: body too large"));
    else
        s_dispatch(&req, &resp);
    return s_answer(conn, &resp);
}

static void s_done(void *cls, struct MHD_Connection *conn, void **ctx,
                   enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    s_conn_t *c = *ctx;
    if (c)
        free(c->body);
    free(c);
    *ctx = NULL;
}

int sbx_serve(int port, volatile int *stop)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, s_access, NULL, MHD_OPTION_NOTIFY_COMPLETED, s_done, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)2048, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_END);
    if (!d)
        return -1;
    while (!*stop) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    return 0;
}
