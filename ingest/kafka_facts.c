/* The Kafka source's facts (kafka.c): in a service stage, what each
 * facts partition says of the correlating stage's inputs: their marks
 * (how far each has got in event time), the facts already seen (dropped
 * when sent again) and the commit metadata that carries them to the
 * partition's next owner. */
#include "kafka_int.h"

#include <stdlib.h>
#include <string.h>

static struct input *input_of(struct part *p, struct ll_str source)
{
    for (size_t i = 0; i < p->n_inputs; i++)
        if (ll_str_eq(ll_str_c(p->inputs[i].source), source))
            return &p->inputs[i];
    p->inputs = ll_reallocarray(p->inputs, p->n_inputs + 1, sizeof *p->inputs);
    struct input *in = &p->inputs[p->n_inputs++];
    *in = (struct input){ll_strndup(source.ptr, source.len), -1, -1, LL_TIME_NONE, LL_TIME_NONE,
                         false};
    return in;
}

/* The least time the inputs with one are marked at (LL_TIME_NONE: none). */
static int64_t least_mark(const struct part *p)
{
    int64_t low = LL_TIME_NONE;
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->inputs[i].mark != LL_TIME_NONE && (low == LL_TIME_NONE || p->inputs[i].mark < low))
            low = p->inputs[i].mark;
    return low;
}

/* The next line of [*@p v, @p end) (the last may lack its newline), split
 * at its last space: @p source before it, @p value after it (NUL-ended; ""
 * if longer than 23 bytes). Without a space, @p source is empty and
 * @p value the whole line. @returns false when no line is left. */
static bool next_pair(const char **v, const char *end, struct ll_str *source, char value[24])
{
    if (*v >= end)
        return false;
    const char *nl = memchr(*v, '\n', (size_t)(end - *v));
    if (!nl)
        nl = end;
    const char *sp = memrchr(*v, ' ', (size_t)(nl - *v));
    const char *at = sp ? sp + 1 : *v;
    *source = sp ? (struct ll_str){*v, (size_t)(sp - *v)} : LL_STR("");
    value[0] = '\0';
    if ((size_t)(nl - at) < 24) {
        memcpy(value, at, (size_t)(nl - at));
        value[nl - at] = '\0';
    }
    *v = nl + 1;
    return true;
}

/* A mark: "N\n" (input partitions in all), then "SOURCE TIME\n" lines
 * (TIME "-": nothing to read there). A time only moves forward. */
void ll__kafka_read_mark(struct part *p, const rd_kafka_message_t *m)
{
    const char *v = m->payload ? m->payload : "", *end = v + m->len;
    int64_t others = least_mark(p);
    struct ll_str src;
    char num[24];
    for (bool first = true; next_pair(&v, end, &src, num); first = false) {
        if (first) {
            p->expected = atoi(num);
        } else if (src.len) {
            struct input *in = input_of(p, src);
            /* "-" (nothing to read) counts only for an input that never had
             * a time: a new owner that has read nothing yet knows less than
             * the last owner's marks did. */
            int64_t t = strcmp(num, "-") == 0 ? LL_TIME_NONE : strtoll(num, NULL, 10);
            if (in->mark == LL_TIME_NONE || t > in->mark)
                in->mark = t;
            if (t == LL_TIME_NONE)
                in->cap = others;
            in->marked = true;
        }
    }
}

/* A message of a facts topic, not a mark: @returns true if it is a fact
 * not seen before; @p note: where it was read. */
bool ll__kafka_from_stage(ll_kafka *k, struct part *p, const rd_kafka_message_t *m,
                          struct fact_note *note)
{
    struct ll_str src = ll__kafka_header(m, LL_KAFKA_FACT_SRC);
    struct ll_str off = ll__kafka_header(m, LL_KAFKA_FACT_OFF);
    if (!src.len)
        return true;
    char num[24] = "";
    if (off.len < sizeof num)
        memcpy(num, off.ptr, off.len);
    int64_t o = strtoll(num, NULL, 10);
    struct input *in = input_of(p, src);
    if (o <= in->off) { /* sent again: its input was read again after a rebalance */
        k->st.facts_repeated++;
        return false;
    }
    in->off = o;
    *note = (struct fact_note){0, (uint32_t)(in - p->inputs), o};
    return true;
}

/* The facts handed out before read order @p cut are behind the commit:
 * a fact from the same input no later than them is a repeat after it. */
void ll__kafka_facts_passed(struct part *p, uint64_t cut)
{
    while (p->notes_at < p->n_notes && p->notes[p->notes_at].seq < cut) {
        const struct fact_note *n = &p->notes[p->notes_at++];
        if (n->off > p->inputs[n->input].cut_off)
            p->inputs[n->input].cut_off = n->off;
    }
    if (p->notes_at * 2 > p->n_notes) {
        memmove(p->notes, p->notes + p->notes_at, (p->n_notes - p->notes_at) * sizeof *p->notes);
        p->n_notes -= p->notes_at;
        p->notes_at = 0;
    }
}

/* The commit's metadata: "F<n>\n", then n bytes of "SOURCE OFFSET\n" lines
 * (ll__kafka_facts_passed()), then @p meta. */
char *ll__kafka_facts_meta(const struct part *p, const char *meta)
{
    struct ll_buf b = {0}, facts = {0};
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->inputs[i].cut_off >= 0)
            ll_buf_printf(&facts, "%s %lld\n", p->inputs[i].source,
                          (long long)p->inputs[i].cut_off);
    ll_buf_printf(&b, "F%zu\n", facts.len);
    ll_buf_append(&b, facts.data ? facts.data : "", facts.len);
    ll_buf_puts(&b, meta ? meta : "");
    ll_buf_free(&facts);
    return (char *)b.data;
}

/* Reads the facts section of a commit's metadata (ll__kafka_facts_meta()): facts up
 * to those offsets were seen by the last owner. @returns the rest. */
const char *ll__kafka_facts_load(struct part *p, const char *meta)
{
    char *end;
    if (meta[0] != 'F')
        return meta;
    unsigned long long n = strtoull(meta + 1, &end, 10);
    if (*end != '\n' || n > strlen(end + 1))
        return meta;
    const char *v = end + 1, *stop = v + n;
    struct ll_str src;
    char num[24];
    while (next_pair(&v, stop, &src, num) && src.len) {
        struct input *in = input_of(p, src);
        in->off = in->cut_off = strtoll(num, NULL, 10);
    }
    return stop;
}

int64_t ll_kafka_facts_time(const ll_kafka *k, int slot)
{
    const struct part *p = &k->parts[slot];
    if (!p->expected || p->n_inputs < (size_t)p->expected)
        return LL_TIME_NONE;
    int64_t low = INT64_MAX;
    bool waits = false;
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct input *in = &p->inputs[i];
        if (!in->marked)
            return LL_TIME_NONE;
        /* "Nothing to read" lets the others' time on only as far as it was
         * when that was last said: an owner that died, or gave the
         * partition up, before it read a line said nothing of the lines its
         * next owner will read. Said before any time was known, it holds
         * the time until said again. */
        int64_t t = in->mark != LL_TIME_NONE ? in->mark : in->cap;
        waits |= t == LL_TIME_NONE;
        if (t != LL_TIME_NONE && t < low)
            low = t;
    }
    return low == INT64_MAX || waits ? LL_TIME_NONE : low;
}

bool ll_kafka_marked(const ll_kafka *k, int slot)
{
    return k->parts[slot].expected > 0;
}
