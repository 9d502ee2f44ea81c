/* Private to the logloom executable: the dead-letter file, where rejected
 * lines go with the reason and their place, one JSON object per line:
 * {"reason","source","offset","detail","line"} ("line_base64" for a line
 * that is not UTF-8; "truncated" and "length" for an over-long one).
 *
 * Records are appended with write(2). With a cap, a record that would take
 * the file past it first renames the file to PATH.1 (replacing the one
 * before) and starts a new one: at most twice the cap is kept, the newest
 * records (a record bigger than the cap gets a file of its own). A full
 * disk does not stop the caller: a record written only in part is cut back
 * off (the file holds whole lines only), when records start and stop being
 * lost is logged, naming the file, and the lost ones are counted.
 *
 * A line read again (after a restart, behind the checkpoint; a replay run
 * again) makes the same record: one that the end of the file (the cap, or
 * DEDUPE_BYTES) holds already when it is opened is not written again. */
#ifndef LOGLOOM_CLI_DEADLETTER_H
#define LOGLOOM_CLI_DEADLETTER_H

#include "logloom/ingest.h"

#include <sys/types.h>

struct ll__dead_letter {
    const char *path;      /* NULL: no file */
    const char *component; /* names the caller in log lines */
    uint64_t max_bytes;    /* the cap; 0: none */
    int fd;
    off_t size;            /* after the last whole record */
    struct ll_buf rec;
    struct ll_lineset seen; /* the records the file ended with when opened */
    uint64_t written, repeated;
    uint64_t lost, failing; /* not written: in all, and since the last that was */
};

/* Opens (creates, mode 0600) @p path for appending, capped at @p max_bytes
 * (0: no cap); on failure, errno is set and the result is false. @p path
 * and @p component are kept, not copied. */
/* Whether @p path can be opened as the dead-letter file (written to, or
 * made), without making it. @returns false with the reason in @p err. */
bool ll__dead_letter_check(const char *path, char *err, size_t errsz);
bool ll__dead_letter_open(struct ll__dead_letter *dl, const char *path, uint64_t max_bytes,
                          const char *component);
/* Appends the record of one rejected line (an ll_reject_fn's arguments). */
void ll__dead_letter_write(struct ll__dead_letter *dl, enum ll_reject reason,
                           const struct ll_pos *pos, const struct ll_line *line,
                           const char *detail);
void ll__dead_letter_close(struct ll__dead_letter *dl);

#endif
