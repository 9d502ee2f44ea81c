/* logloom: the command line. Each subcommand lives in its own file. */
#include "logloom/core.h"

#include <string.h>

#include "cli.h"
#include "commit.h" /* LL_COMMIT, written at build time */

#ifndef LL_VERSION
#define LL_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: logloom <command> [options]\n"
            "\n"
            "commands:\n"
            "  replay PATH...   correlate archived JSON logs into workflow timelines\n"
            "  run -c FILE      the daemon: tail files or Kafka, alert as lines arrive\n"
            "  check -c FILE    check a run configuration and its rules\n"
            "  repartition ...  re-key a Kafka topic by correlation id\n"
            "  rules VERB ...   lint, test or list rule files\n"
            "  config VERB ...  show the effective configuration, check a file\n"
            "  help [COMMAND]   show help\n"
            "  version          show the version and the commit it was built from\n"
            "\n"
            "Run 'logloom help replay' for the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return LL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "replay") == 0)
        return ll_cmd_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "rules") == 0)
        return ll_cmd_rules(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0)
        return ll_cmd_config(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return ll_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return ll_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "repartition") == 0)
        return ll_cmd_repartition(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("logloom %s (commit %s)\n", LL_VERSION, LL_COMMIT);
        return LL_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "replay") == 0)
            ll_cmd_replay_usage(stdout);
        else if (argc > 2 && strcmp(argv[2], "rules") == 0)
            ll_cmd_rules_usage(stdout);
        else if (argc > 2 && strcmp(argv[2], "config") == 0)
            ll_cmd_config_usage(stdout);
        else if (argc > 2 && (strcmp(argv[2], "run") == 0 || strcmp(argv[2], "check") == 0))
            ll_cmd_run_usage(stdout);
        else if (argc > 2 && strcmp(argv[2], "repartition") == 0)
            ll_cmd_repartition_usage(stdout);
        else
            usage(stdout);
        return LL_EXIT_OK;
    }
    fprintf(stderr, "logloom: unknown command '%s'\n", cmd);
    usage(stderr);
    return LL_EXIT_USAGE;
}
