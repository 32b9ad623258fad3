/* bxctl: the operator command's entry point: loads the configuration and dispatches to a
 * subcommand through one table. */
#include "bxctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bx_config.h"
#include "bx_log.h"

typedef struct {
    const char *name;    /* what the operator types */
    bxctl_fn_t fn;       /* handler */
    const char *args;    /* argument synopsis for usage */
    const char *summary; /* one line for usage */
} s_cmd_t;

static const s_cmd_t s_cmds[] = {
    /* BXCTL-COMMANDS: one line per subcommand, kept in alphabetical order. A new
     * subcommand lives in tools/bxctl_<name>.c and declares its handler in bxctl.h. */
    {"create-admin", bxctl_create_admin, "--email E [--password-file F|-]",
     "create or promote an admin (password from file or BOXOFFICE_ADMIN_PASSWORD)"},
    {"keygen", bxctl_keygen, "[--if-missing] [--dir DIR]",
     "create an Ed25519 JWT signing key jwt-<kid>.pem in jwt_key_dir"},
    {"migrate", bxctl_migrate, "[--status]",
     "apply the compiled-in SQL migrations (or list them with --status)"},
    {"seed", bxctl_seed, "[--events N]",
     "load the demo data (idempotent); --events: at least N benchmark events"},
    {"ticket-rotate", bxctl_ticket_rotate, "",
     "retire the ticket signing key and make a new one (old keys keep verifying)"},
    {"ticket-verify", bxctl_ticket_verify, "<payload> [--keys F|URL] [--revoked F|URL]",
     "verify a ticket offline: 0 valid, 3 invalid, 4 revoked"},
};

#define S_NCMDS (sizeof s_cmds / sizeof s_cmds[0])

static void s_usage(FILE *out)
{
    fprintf(out, "usage: bxctl <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < S_NCMDS; i++)
        fprintf(out, "  %-8s %-28s %s\n", s_cmds[i].name, s_cmds[i].args, s_cmds[i].summary);
    fprintf(out, "\nConfiguration comes from BOXOFFICE_* environment variables (and the file\n"
                 "named by BOXOFFICE_CONFIG); BOXOFFICE_PG_DSN selects the database.\n");
}

void bxctl_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bxctl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bx_pg_t *bxctl_pg_connect(void)
{
    bx_pg_t *pg = bx_pg_new(bx_config_str("pg_dsn"), 0);
    if (!pg)
        fprintf(stderr, "bxctl: could not connect to postgresql (BOXOFFICE_PG_DSN): see the "
                        "log line above\n");
    return pg;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? BXCTL_USAGE : BXCTL_OK;
    }
    for (size_t i = 0; i < S_NCMDS; i++) {
        if (strcmp(argv[1], s_cmds[i].name))
            continue;
        bx_log_init("bxctl", BX_LOG_INFO);
        if (bx_config_load() != BX_OK)
            return BXCTL_FAIL;
        return s_cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "bxctl: unknown command %s\n\n", argv[1]);
    s_usage(stderr);
    return BXCTL_USAGE;
}
