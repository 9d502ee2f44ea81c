/* Private to the logloom executable: the subcommands. */
#ifndef LOGLOOM_CLI_H
#define LOGLOOM_CLI_H

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

/* A size for a buffer or a file (ll_size_parse): 1 byte to 4 GiB. */
bool ll__parse_size(const char *s, size_t *out);

/* Decoding threads: at most this many; by default the CPUs this process
 * may use (its affinity, and a container's CPU limit), up to 8 (the
 * ordered stage is one thread: more decoders would idle). */
#define LL__MAX_THREADS 64
size_t ll__auto_threads(void);

#endif
