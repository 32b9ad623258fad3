/* sbx_twilio: the Twilio Programmable Messaging wire format: POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From, Body, basic
 * auth AccountSid:AuthToken; 201 with the message resource (sid "SM..."), Twilio-style
 * error documents otherwise. The magic number +15005550001 is an invalid To (21211), as
 * with Twilio's test credentials. Records under "twilio"; knob key "twilio". */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "sbx.h"

#define S_PREFIX "/2010-04-01/Accounts/"

static int s_claims(const char *method, const char *url)
{
    size_t n = strlen(url);
    return !strcmp(method, "POST") && !strncmp(url, S_PREFIX, strlen(S_PREFIX)) && n > 14 &&
           !strcmp(url + n - 14, "/Messages.json");
}

static void s_error(sbx_resp_t *resp, int status, int code, const char *message)
{
    sbx_json(resp, status,
             json_pack("{s:i, s:s, s:s, s:i}", "code", code, "message", message, "more_info",
                       "https://www.twilio.com/docs/errors", "status", status));
}

static void s_handle(const sbx_req_t *req, sbx_resp_t *resp)
{
    char user[128], pass[128], sid[64], to[64], from[64], body[2048];
    const char *path_sid = req->url + strlen(S_PREFIX);
    size_t sid_len = strlen(path_sid) - 14;
    snprintf(sid, sizeof sid, "%.*s", (int)(sid_len < sizeof sid ? sid_len : 0), path_sid);
    if (!sbx_basic_auth(req, user, pass, sizeof user) || strcmp(user, sid) ||
        strcmp(user, sbx_creds.twilio_sid) || strcmp(pass, sbx_creds.twilio_token)) {
        s_error(resp, 401, 20003, "Authenticate");
        return;
    }
    if (sbx_knob_apply("twilio", resp))
        return;
    if (!sbx_form_get(req->body, "To", to, sizeof to) || !to[0]) {
        s_error(resp, 400, 21604, "A 'To' phone number is required.");
        return;
    }
    if (!sbx_form_get(req->body, "Body", body, sizeof body) || !body[0]) {
        s_error(resp, 400, 21602, "Message body is required.");
        return;
    }
    if (!sbx_form_get(req->body, "From", from, sizeof from))
        from[0] = '\0';
    if (!strcmp(to, "+15005550001") || to[0] != '+') {
        s_error(resp, 400, 21211, "The 'To' number is not a valid phone number.");
        return;
    }
    unsigned char r[16];
    char msid[40] = "SM";
    RAND_bytes(r, sizeof r);
    for (int i = 0; i < 16; i++)
        snprintf(msid + 2 + 2 * i, 3, "%02x", r[i]);
    sbx_record("twilio", json_pack("{s:s, s:s, s:s, s:s}", "sid", msid, "to", to, "from", from,
                                   "body", body));
    sbx_json(resp, 201,
             json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "sid", msid, "account_sid", sid, "to",
                       to, "from", from, "body", body, "status", "queued", "api_version",
                       "2010-04-01"));
}

const sbx_module_t sbx_twilio_module = {"twilio", s_claims, s_handle};
