/* sbx_control: the sandbox's own routes: GET /healthz; GET /_sandbox/records?key=K
 * [&since=N] (what a module recorded under K); GET /_sandbox/count?key=K[&field=F]
 * (how many, and how many distinct values of F); DELETE /_sandbox/records (forget
 * records and knobs); POST /_sandbox/knobs {"key", "mode", "times", "delay_ms",
 * "status"} (see sbx_knob_set). Keys: "hooks:<name>", "twilio", "vonage", "push:<id>". */
#include <stdlib.h>
#include <string.h>

#include "sbx.h"

static int s_claims(const char *method, const char *url)
{
    (void)method;
    return !strcmp(url, "/healthz") || !strncmp(url, "/_sandbox/", 10);
}

static void s_knobs(const sbx_req_t *req, sbx_resp_t *resp)
{
    json_t *b = json_loadb(req->body, req->len, 0, NULL);
    const char *key = json_string_value(json_object_get(b, "key"));
    const char *mode = json_string_value(json_object_get(b, "mode"));
    if (!key || !mode) {
        sbx_json(resp, 400, json_pack("{s:s}", "error", "key and mode are required"));
    } else {
        sbx_knob_set(key, mode, (int)json_integer_value(json_object_get(b, "times")),
                     (int)json_integer_value(json_object_get(b, "delay_ms")),
                     (int)json_integer_value(json_object_get(b, "status")));
        sbx_json(resp, 200, json_pack("{s:s, s:s}", "key", key, "mode", mode));
    }
    json_decref(b);
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    const char *key = sbx_query(req, "key");
    const char *since = sbx_query(req, "since");
    if (!strcmp(req->url, "/healthz")) {
        sbx_json(resp, 200, json_pack("{s:s}", "status", "ok"));
    } else if (!strcmp(req->url, "/_sandbox/records") && !strcmp(req->method, "DELETE")) {
        sbx_clear();
        sbx_json(resp, 200, json_pack("{s:b}", "cleared", 1));
    } else if (!strcmp(req->url, "/_sandbox/records") && key) {
        sbx_json(
            resp, 200,
            json_pack("{s:o}", "records", sbx_records(key, since ? strtol(since, NULL, 10) : 0)));
    } else if (!strcmp(req->url, "/_sandbox/count") && key) {
        long n = 0, d = 0;
        sbx_count(key, sbx_query(req, "field"), &n, &d);
        sbx_json(resp, 200,
                 json_pack("{s:I, s:I}", "count", (json_int_t)n, "distinct", (json_int_t)d));
    } else if (!strcmp(req->url, "/_sandbox/knobs") && !strcmp(req->method, "POST")) {
        s_knobs(req, resp);
    } else {
        sbx_json(resp, 404, json_pack("{s:s}", "error", "unknown control route or missing key"));
    }
}

const sbx_module_t sbx_control_module = {"control", s_claims, s_handle};
