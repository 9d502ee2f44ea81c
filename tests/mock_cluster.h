/* librdkafka's mock cluster for the Kafka tests: ll-kafka-mock serve as a
 * child process, its command pipe, its bootstrap address. */
#ifndef LOGLOOM_TEST_MOCK_CLUSTER_H
#define LOGLOOM_TEST_MOCK_CLUSTER_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct mock_cluster {
    pid_t pid;
    FILE *cmd;          /* one command a line (kafka_mock.c) */
    char bootstrap[512];
};

/* Starts @p bin serve with 3 brokers and the topics "NAME:PARTITIONS" of
 * the NULL-terminated @p topics. @returns 0, or -1. */
static inline int mock_cluster_start(struct mock_cluster *m, const char *bin,
                                     const char *const *topics)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    m->pid = fork();
    if (m->pid == 0) {
        const char *argv[64] = {bin, "serve", "-b", "3"};
        int n = 4;
        for (size_t i = 0; topics[i] && n < 62; i++) {
            argv[n++] = "-t";
            argv[n++] = topics[i];
        }
        argv[n] = NULL;
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    m->cmd = fdopen(in[1], "w");
    FILE *o = fdopen(out[0], "r");
    if (!o || !fgets(m->bootstrap, sizeof m->bootstrap, o))
        return -1;
    m->bootstrap[strcspn(m->bootstrap, "\n")] = '\0';
    /* Its "ok" replies are not read: a pipe holds them. */
    return 0;
}

/* Sends @p m one command (kafka_mock.c's serve), printf-style. */
__attribute__((format(printf, 2, 3))) static inline void
mock_cluster_command(struct mock_cluster *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m->cmd, fmt, ap);
    va_end(ap);
    fputc('\n', m->cmd);
    fflush(m->cmd);
}

static inline void mock_cluster_stop(struct mock_cluster *m)
{
    if (m->cmd)
        fclose(m->cmd);
    if (m->pid > 0) {
        kill(m->pid, SIGKILL); /* its cluster's teardown can spin */
        waitpid(m->pid, NULL, 0);
    }
}

#endif
