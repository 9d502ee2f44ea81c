/* `logloom run`'s checkpoints: what each lane still needs (its stage, and
 * records the sinks have not made durable), the files' positions and the
 * tombstones written at that cut, and each Kafka partition's commit with
 * its tombstones as metadata. */
#include "daemon.h"

#include <string.h>

#define FACTS_FLUSH_MS 10000
#define META_MAX 3900 /* bytes of commit metadata (brokers take 4096 by default) */
#define META_FACTS 1024 /* of them, kept for the facts a service stage saw */

/* The oldest read order @p l still needs: in its stage, or behind a record
 * a sink has not made durable (of any lane: that errs on the safe side). */
static uint64_t lane_cut(struct daemon *d, struct lane *l)
{
    uint64_t s = d->seq + 1, o = ll__stage_oldest_seq(&l->stage);
    if (o < s)
        s = o;
    for (size_t i = 0; i < d->n_sinks; i++)
        if ((o = ll_sink_oldest_seq(d->sinks[i])) < s)
            s = o;
    return s;
}

/* The files' cut, lowered until no file's stretch of lines straddles it. */
static uint64_t needed(struct daemon *d)
{
    uint64_t s = lane_cut(d, &d->files);
    for (bool moved = true; moved;) {
        moved = false;
        for (size_t i = 0; i < d->n_tails; i++) {
            uint64_t c = ll_tail_cut(d->tails[i], s);
            if (c < s) {
                s = c;
                moved = true;
            }
        }
    }
    return s;
}

/* Sets aside the commit of Kafka partition @p slot at what its lane needs,
 * with the tombstones of what straddles that as the commit's metadata. */
void ll__run_stage_commit(struct daemon *d, int slot)
{
    struct lane *l = d->lanes[slot];
    uint64_t cut = lane_cut(d, l), last = ll__closed_last(&l->closed, cut);
    int64_t through = last ? ll_kafka_offset(d->kafka, slot, last) : -1;
    if (l->through > through)
        through = l->through; /* loaded ones not yet read past */
    struct ll_buf meta = {0};
    if (d->rc.stage == LL__STAGE_CORRELATE && lane_time(l) != LL_TIME_NONE)
        ll_buf_printf(&meta, "T%lld\n", (long long)lane_time(l)); /* on_assigned() */
    cut = ll__closed_render(&l->closed, cut, cut, through,
                            META_MAX - (d->rc.stage == LL__STAGE_SERVICE ? META_FACTS : 0), &meta);
    ll_kafka_stage(d->kafka, slot, cut, meta.data);
    ll_buf_free(&meta);
    l->committed = cut;
    ll__closed_forget(&l->closed, cut);
}

/* The correlating stage commits only what the brokers hold the facts of;
 * a fact lost for good stops the process (a restart reads it again).
 * @returns false if nothing may be committed now. */
bool ll__run_facts_safe(struct daemon *d)
{
    if (!d->facts || ll__facts_flush(d->facts, FACTS_FLUSH_MS))
        return true;
    uint64_t sent, marks, failed;
    ll__facts_counts(d->facts, &sent, &marks, &failed);
    if (failed && !d->failed) {
        ll_log(LL_LEVEL_ERROR, "facts", "a fact was not delivered: stopping, so that a restart "
               "reads its line again");
        d->failed = true; /* the main loop stops */
    }
    return false;
}

static void commit_kafka(struct daemon *d, bool sync)
{
    if (!d->kafka || !ll__run_facts_safe(d))
        return;
    for (int i = 0; i < d->n_lanes; i++)
        if (d->lanes[i])
            ll__run_stage_commit(d, i);
    ll_kafka_commit(d->kafka, sync);
}

void ll__run_checkpoint(struct daemon *d)
{
    commit_kafka(d, false);
    if (!d->n_tails)
        return;
    uint64_t cut = needed(d);
    if (!d->rc.checkpoint_dir) { /* nothing is read again: what is behind goes */
        d->files.committed = cut;
        for (size_t i = 0; i < d->n_tails; i++)
            ll_tail_forget(d->tails[i], cut);
        ll__closed_forget(&d->files.closed, cut);
        return;
    }
    struct ll_tail_pos *all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_tail_pos *p;
        size_t k = ll_tail_positions(d->tails[i], cut, &p);
        all = ll_reallocarray(all, n + k + 1, sizeof *all);
        if (k)
            memcpy(all + n, p, k * sizeof *p);
        n += k;
    }
    /* Tombstones first: they serve the old positions and the new ones, so a
     * crash between the two writes finds what either needs. */
    char err[512];
    if (ll__closed_save(&d->files.closed, d->rc.checkpoint_dir, d->files.committed, cut, err,
                        sizeof err) != LL_OK ||
        ll_checkpoints_save(d->rc.checkpoint_dir, all, n, err, sizeof err) != LL_OK) {
        d->checkpoint_failures++;
        ll_log(LL_LEVEL_ERROR, "checkpoint", "%s (the previous checkpoint stays; trying again "
               "in %.0fs)", err, (double)d->rc.checkpoint_interval_ns / 1e9);
    } else {
        d->checkpoint_at = ll_clock_mono_ns();
        d->files.committed = cut;
        for (size_t i = 0; i < d->n_tails; i++)
            ll_tail_forget(d->tails[i], cut);
        ll__closed_forget(&d->files.closed, cut);
    }
    ll_free(all);
}
