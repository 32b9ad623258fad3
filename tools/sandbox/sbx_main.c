/* bx-sandbox: the local sandbox provider (docs/sandbox.md). Usage:
 *   bx-sandbox [--port N] [--twilio-sid S] [--twilio-token T] [--vonage-key K]
 *              [--vonage-secret S] [--stripe-key K] [--stripe-webhook-secret S]
 *              [--razorpay-key-id K] [--razorpay-key-secret S] [--razorpay-webhook-secret S]
 *              [--webhook-base URL] [--gateway-delay-ms N]
 * Defaults match the delivery configuration's defaults, so a stock setup works. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbx.h"

sbx_creds_t sbx_creds = {
    .twilio_sid = "ACboxofficesandbox",
    .twilio_token = "sandbox-token",
    .vonage_key = "boxoffice",
    .vonage_secret = "sandbox-secret",
    .stripe_key = "sk_test_boxoffice_sandbox",
    .stripe_whsec = "whsec_boxoffice_sandbox",
    .razorpay_key_id = "rzp_test_boxoffice",
    .razorpay_key_secret = "rzp_sandbox_secret",
    .razorpay_whsec = "rzp_whsec_sandbox",
    .webhook_base = "http://127.0.0.1:8080",
    .gateway_delay_ms = 12000,
};

static char s_self[64];

static volatile int s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static int s_args(int argc, char **argv, long *port)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        char *end;
        if (!strcmp(k, "--port")) {
            *port = strtol(v, &end, 10);
            if (*end || *port < 1 || *port > 65535)
                return 0;
        } else if (!strcmp(k, "--twilio-sid"))
            sbx_creds.twilio_sid = v;
        else if (!strcmp(k, "--twilio-token"))
            sbx_creds.twilio_token = v;
        else if (!strcmp(k, "--vonage-key"))
            sbx_creds.vonage_key = v;
        else if (!strcmp(k, "--vonage-secret"))
            sbx_creds.vonage_secret = v;
        else if (!strcmp(k, "--stripe-key"))
            sbx_creds.stripe_key = v;
        else if (!strcmp(k, "--stripe-webhook-secret"))
            sbx_creds.stripe_whsec = v;
        else if (!strcmp(k, "--razorpay-key-id"))
            sbx_creds.razorpay_key_id = v;
        else if (!strcmp(k, "--razorpay-key-secret"))
            sbx_creds.razorpay_key_secret = v;
        else if (!strcmp(k, "--razorpay-webhook-secret"))
            sbx_creds.razorpay_whsec = v;
        else if (!strcmp(k, "--webhook-base"))
            sbx_creds.webhook_base = v;
        else if (!strcmp(k, "--gateway-delay-ms")) {
            long ms = strtol(v, &end, 10);
            if (*end || ms < 0 || ms > 600000)
                return 0;
            sbx_creds.gateway_delay_ms = (int)ms;
        }
        else
            return 0;
    }
    return argc % 2 == 1;
}

int main(int argc, char **argv)
{
    long port = 26480;
    if (!s_args(argc, argv, &port)) {
        fprintf(stderr, "usage: bx-sandbox [--port N] [--twilio-sid S] [--twilio-token T] "
                        "[--vonage-key K] [--vonage-secret S] [--stripe-key K] "
                        "[--stripe-webhook-secret S] [--razorpay-key-id K] "
                        "[--razorpay-key-secret S] [--razorpay-webhook-secret S] "
                        "[--webhook-base URL] [--gateway-delay-ms N]\n");
        return 2;
    }
    static char hook_base[64];
    const char *http_port = getenv("BOXOFFICE_HTTP_PORT"); /* the frontdoor of this setup */
    if (http_port && !strcmp(sbx_creds.webhook_base, "http://127.0.0.1:8080") &&
        strtol(http_port, NULL, 10) > 0) {
        snprintf(hook_base, sizeof hook_base, "http://127.0.0.1:%ld", strtol(http_port, NULL, 10));
        sbx_creds.webhook_base = hook_base;
    }
    snprintf(s_self, sizeof s_self, "http://127.0.0.1:%ld", port);
    sbx_creds.self_base = s_self;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "{\"svc\":\"sandbox\",\"msg\":\"listening on 127.0.0.1:%ld\"}\n", port);
    if (sbx_serve((int)port, &s_stop) != 0) {
        fprintf(stderr, "bx-sandbox: could not listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    sbx_clear();
    return 0;
}
