/* Private to the logloom executable: what the daemon delivered, remembered
 * for as long as a checkpoint could make it be read again.
 *
 * A checkpoint is cut at the oldest event that open state still needs. A
 * workflow or an alert that closed (and was delivered) can straddle that
 * cut: some of its lines before it, some after. After a restart, those
 * after it are read again and would make a second, partial timeline or
 * alert with another id. So the checkpoint keeps a tombstone of each item
 * that straddles it (kind, rule, correlation id, service, last event
 * time), and after a restart an item that began in the lines read again
 * and matches a tombstone is the remains of one already delivered: it is
 * not delivered again. */
#ifndef LOGLOOM_CLI_CLOSED_H
#define LOGLOOM_CLI_CLOSED_H

#include "logloom/core.h"

struct ll__closed_item;

struct ll__closed {
    struct ll__closed_item *v; /* delivered, in delivery order */
    size_t n, cap;
    struct ll__closed_item *dead; /* tombstones loaded at start, sorted by hash */
    size_t n_dead;
    uint64_t replay_end; /* seq by which the lines read again were read (UINT64_MAX: not yet) */
    uint64_t suppressed; /* items not delivered again */
};

void ll__closed_init(struct ll__closed *c);
void ll__closed_free(struct ll__closed *c);

/* A timeline or alert was delivered. */
void ll__closed_timeline(struct ll__closed *c, const struct ll_timeline *tl);
void ll__closed_alert(struct ll__closed *c, const struct ll_alert *a);

/* True if this item is the remains of one delivered before a restart. */
bool ll__closed_seen_timeline(struct ll__closed *c, const struct ll_timeline *tl);
bool ll__closed_seen_alert(struct ll__closed *c, const struct ll_alert *a);

/* An alert raised again on the remains of a timeline delivered before the
 * restart belongs to that timeline: @returns its id (0: none such). */
uint64_t ll__closed_timeline_id(const struct ll__closed *c, const struct ll_alert *a);

/* The lines read again after the restart have all been read by @p seq. */
void ll__closed_replayed(struct ll__closed *c, uint64_t seq);

/* Renders the tombstones a checkpoint at @p cut needs (and those the one
 * at @p prev needs) as a JSON object into @p b, with "through": @p through
 * when not negative (the offset up to which they may be read again). With
 * @p limit (0: none) bytes at most: @returns @p cut, or a cut moved back so
 * that those left out are not needed. */
uint64_t ll__closed_render(struct ll__closed *c, uint64_t prev, uint64_t cut, int64_t through,
                           size_t limit, struct ll_buf *b);
/* @returns the read order of the last event of an item straddling @p cut
 * (0: none does). */
uint64_t ll__closed_last(const struct ll__closed *c, uint64_t cut);
/* Adds the tombstones of a rendered object (a damaged one is logged with
 * @p where and ignored). @returns its "through" (-1: none). */
int64_t ll__closed_parse(struct ll__closed *c, const char *text, const char *where);
/* Writes the tombstones a checkpoint at @p cut needs, and those the one at
 * @p prev (still on disk until the new one replaces it) needs, to
 * @p dir/closed.json. @returns LL_OK or LL_EIO with @p err. */
int ll__closed_save(struct ll__closed *c, const char *dir, uint64_t prev, uint64_t cut,
                    char *err, size_t errsz);
/* The checkpoint at @p cut is on disk: forgets what it cannot need. */
void ll__closed_forget(struct ll__closed *c, uint64_t cut);
/* Reads the tombstones of @p dir; a damaged file is logged and ignored. */
int ll__closed_load(struct ll__closed *c, const char *dir, char *err, size_t errsz);

#endif
