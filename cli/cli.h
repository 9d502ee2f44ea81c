/* The subcommands of the logloom executable. */
#ifndef LOGLOOM_CLI_H
#define LOGLOOM_CLI_H

#include <stdio.h>

/* Exit statuses shared by every subcommand. */
enum {
    LL_EXIT_OK = 0,
    LL_EXIT_FAILURE = 1, /* the run could not complete (e.g. output failed) */
    LL_EXIT_USAGE = 2,   /* bad arguments or unreadable input */
};

int ll_cmd_replay(int argc, char **argv);
void ll_cmd_replay_usage(FILE *out);
int ll_cmd_rules(int argc, char **argv);
void ll_cmd_rules_usage(FILE *out);
int ll_cmd_config(int argc, char **argv);
void ll_cmd_config_usage(FILE *out);
int ll_cmd_run(int argc, char **argv);
int ll_cmd_check(int argc, char **argv);
void ll_cmd_run_usage(FILE *out);
int ll_cmd_repartition(int argc, char **argv);
void ll_cmd_repartition_usage(FILE *out);

#endif
