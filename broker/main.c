/* bx-broker: the pipeline broker process: configuration, signals, then bx_broker_run. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bx_broker.h"
#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"

static volatile sig_atomic_t s_stop;

/* Only sets the flag: the loop notices it (zmq_poll returns EINTR) and stops cleanly. */
static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* Installs our handlers and starts ZeroMQ with SIGTERM/SIGINT blocked, so that its threads
 * inherit the mask and the signal lands in the thread that polls. */
static void s_signals(void)
{
    struct sigaction sa;
    sigset_t set, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    zsys_init();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
    zsys_handler_set(NULL); /* czmq must not install its own SIGINT/SIGTERM handler */
    if (bx_config_load() != BX_OK)
        return 2;
    bx_log_init("broker", bx_log_threshold);
    bx_config_log();
    s_signals();
    bx_broker_opts_t opts;
    bx_broker_opts_from_config(&opts);
    bx_broker_t *broker = bx_broker_new(&opts);
    if (!broker)
        return 1;
    bx_metrics_server_t *metrics = NULL;
    long port = bx_config_int("metrics_port");
    if (port > 0 && !(metrics = bx_metrics_serve(bx_config_str("metrics_bind"), (int)port))) {
        bx_broker_destroy(&broker);
        return 1;
    }
    int rc = bx_broker_run(broker, &s_stop);
    bx_metrics_server_destroy(&metrics);
    bx_broker_destroy(&broker);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
