/* bx-sandbox: the local sandbox provider (docs/sandbox.md). Usage:
 *   bx-sandbox [--port N] [--twilio-sid S] [--twilio-token T] [--vonage-key K]
 *              [--vonage-secret S]
 * Defaults match the delivery configuration's defaults, so a stock setup works. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbx.h"

sbx_creds_t sbx_creds = {"ACboxofficesandbox", "sandbox-token", "boxoffice", "sandbox-secret"};

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
                        "[--vonage-key K] [--vonage-secret S]\n");
        return 2;
    }
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
