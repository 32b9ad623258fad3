/* bx-frontdoor: the HTTP front door. Loads configuration and keys, starts the pipeline
 * thread and the HTTP daemon, and drains on SIGTERM or SIGINT. */
#include <czmq.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bx_config.h"
#include "bx_log.h"
#include "bx_metrics.h"
#include "fd_internal.h"
#include "fd_media.h"
#include "fd_ratelimit.h"
#include "fd_sse.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1; /* only a flag: the main loop does the work */
}

int main(void)
{
    int rc = 1;
    fd_server_t *server = NULL;
    zsys_handler_set(NULL); /* our handlers, not czmq's */
    zsys_init();
    bx_log_init("frontdoor", BX_LOG_INFO);
    if (bx_config_load() != BX_OK)
        return 2;
    bx_config_log();
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (fd_ratelimit_init(NULL) != BX_OK || fd_auth_init() != BX_OK || fd_media_init() != BX_OK ||
        fd_pipeline_start() != BX_OK)
        goto out;
    server = fd_server_new();
    if (!server)
        goto out;
    BX_INFO("frontdoor listening on http://%s:%ld", bx_config_str("http_bind"), bx_config_int("http_port"));
    while (!s_stop)
        usleep(100 * 1000);
    BX_INFO("frontdoor draining");
    rc = 0;
out:
    fd_sse_stop();      /* ends inventory streams: MHD must not stop with suspended ones */
    fd_pipeline_stop(); /* answers every waiting client (202: their requests are durable) */
    usleep(200 * 1000);
    fd_server_destroy(&server);
    fd_auth_shutdown();
    fd_media_shutdown();
    BX_INFO("frontdoor stopped");
    return rc;
}
