/* sbx_receiver: a webhook receiver for partners trying boxoffice webhooks and for tests:
 * POST /hooks/<name> records the Standard Webhooks headers and the raw body under key
 * "hooks:<name>" and answers 200, unless a knob says otherwise. Signatures are not
 * checked here: verifying them is the receiver's job (tests use an independent script). */
#include <stdio.h>
#include <string.h>

#include "sbx.h"

static int s_claims(const char *method, const char *url)
{
    return !strcmp(method, "POST") && !strncmp(url, "/hooks/", 7) && strlen(url) > 7 &&
           strlen(url) < 100;
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    char key[128];
    snprintf(key, sizeof key, "hooks:%s", req->url + 7);
    if (sbx_knob_apply(key, resp))
        return;
    json_t *rec = json_pack(
        "{s:s?, s:s?, s:s?, s:s?, s:s?, s:s%}", "id", sbx_header(req, "webhook-id"), "timestamp",
        sbx_header(req, "webhook-timestamp"), "signature", sbx_header(req, "webhook-signature"),
        "content_type", sbx_header(req, "Content-Type"), "user_agent",
        sbx_header(req, "User-Agent"), "body", req->body, req->len);
    if (rec)
        sbx_record(key, rec);
    sbx_json(resp, 200, json_pack("{s:b}", "received", 1));
}

const sbx_module_t sbx_receiver_module = {"receiver", s_claims, s_handle};
