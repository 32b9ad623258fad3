/* sbx_vonage: the Vonage Messages API wire format for SMS: POST /v1/messages with a JSON
 * body {"message_type": "text", "channel": "sms", "to", "from", "text", "client_ref"},
 * basic auth key:secret; 202 {"message_uuid"}, RFC 7807 problems otherwise. Records
 * under "vonage"; knob key "vonage". */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "sbx.h"

static int s_claims(const char *method, const char *url)
{
    return !strcmp(method, "POST") && !strcmp(url, "/v1/messages");
}

static void s_problem(sbx_resp_t *resp, int status, const char *title, const char *detail)
{
    sbx_json(resp, status,
             json_pack("{s:s, s:s, s:s}", "type", "https://developer.vonage.com/api-errors",
                       "title", title, "detail", detail));
    resp->ctype = "application/problem+json";
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    char user[128], pass[128], uuid[40];
    if (!sbx_basic_auth(req, user, pass, sizeof user) || strcmp(user, sbx_creds.vonage_key) ||
        strcmp(pass, sbx_creds.vonage_secret)) {
        s_problem(resp, 401, "Unauthorized", "You did not provide correct credentials.");
        return;
    }
    if (sbx_knob_apply("vonage", resp))
        return;
    json_t *b = json_loadb(req->body, req->len, 0, NULL);
    const char *to = json_string_value(json_object_get(b, "to"));
    const char *text = json_string_value(json_object_get(b, "text"));
    const char *type = json_string_value(json_object_get(b, "message_type"));
    const char *channel = json_string_value(json_object_get(b, "channel"));
    if (!to || !text || !type || strcmp(type, "text") || !channel || strcmp(channel, "sms") ||
        strspn(to, "0123456789") != strlen(to) || strlen(to) < 7) {
        json_decref(b);
        {
            s_problem(resp, 422, "Invalid params",
                      "The value of one or more parameters is invalid.");
            return;
        }
    }
    unsigned char r[16];
    RAND_bytes(r, sizeof r);
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40), r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
    snprintf(uuid, sizeof uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    sbx_record("vonage",
               json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "message_uuid", uuid, "to", to, "text",
                         text, "from", json_string_value(json_object_get(b, "from")), "client_ref",
                         json_string_value(json_object_get(b, "client_ref"))));
    json_decref(b);
    sbx_json(resp, 202, json_pack("{s:s}", "message_uuid", uuid));
}

const sbx_module_t sbx_vonage_module = {"vonage", s_claims, s_handle};
