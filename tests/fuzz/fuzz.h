/* Shared by the fuzz targets: a private directory for inputs that the code
 * under test reads by path (configuration, rules, checkpoints). */
#ifndef LOGLOOM_FUZZ_H
#define LOGLOOM_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logloom/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Each target's own preparation, once, after fuzz_init(). */
static void setup(void);

static char fuzz_dir[64];
static char fuzz_names[8][32];
static size_t fuzz_n_names;

static void fuzz_cleanup(void)
{
    char path[512];
    for (size_t i = 0; i < fuzz_n_names; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, fuzz_names[i]);
        unlink(path);
    }
    rmdir(fuzz_dir);
}

/* Creates the directory (removed at exit) and quiets logging: a fuzz run
 * prints nothing but what the sanitizers find. */
static void fuzz_init(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%.40s/ll-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir))
        abort();
    atexit(fuzz_cleanup);
    ll_log_set_level(LL_LEVEL_FATAL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    setup();
    return 0;
}

/* Writes @p data to the file @p name in the directory; its path is in
 * @p path. */
static void fuzz_file(const char *name, const uint8_t *data, size_t size, char *path,
                      size_t pathsz)
{
    snprintf(path, pathsz, "%s/%s", fuzz_dir, name);
    size_t i = 0;
    while (i < fuzz_n_names && strcmp(fuzz_names[i], name) != 0)
        i++;
    if (i == fuzz_n_names && i < sizeof fuzz_names / sizeof *fuzz_names)
        snprintf(fuzz_names[fuzz_n_names++], sizeof *fuzz_names, "%s", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);
}

#endif
