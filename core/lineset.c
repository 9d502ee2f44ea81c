/* Line sets: see core.h. */
#include "logloom/core.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 20)

static uint64_t line_hash(const char *p, size_t n)
{
    uint64_t h = ll_hash_keyed(p, n);
    return h ? h : 1;
}

static void put(struct ll__lineset_gen *g, uint64_t h)
{
    if ((g->n + 1) * 2 > g->n_slots) {
        uint64_t *old = g->slots;
        size_t n_old = g->n_slots;
        g->n_slots = n_old ? n_old * 2 : 1024;
        g->slots = ll_calloc(g->n_slots, sizeof *g->slots);
        g->n = 0;
        for (size_t i = 0; i < n_old; i++)
            if (old[i])
                put(g, old[i]);
        ll_free(old);
    }
    size_t mask = g->n_slots - 1, i = h & mask;
    for (; g->slots[i]; i = (i + 1) & mask)
        if (g->slots[i] == h)
            return;
    g->slots[i] = h;
    g->n++;
}

static bool has(const struct ll__lineset_gen *g, uint64_t h)
{
    if (!g->n)
        return false;
    size_t mask = g->n_slots - 1;
    for (size_t i = h & mask; g->slots[i]; i = (i + 1) & mask)
        if (g->slots[i] == h)
            return true;
    return false;
}

void ll_lineset_add(struct ll_lineset *s, const char *p, size_t n)
{
    if (!s->window)
        return;
    put(&s->gen[0], line_hash(p, n));
    if ((s->bytes += n + 1) >= s->window) { /* a new window */
        ll_free(s->gen[1].slots);
        s->gen[1] = s->gen[0];
        s->gen[0] = (struct ll__lineset_gen){0};
        s->bytes = 0;
    }
}

bool ll_lineset_has(const struct ll_lineset *s, const char *p, size_t n)
{
    if (!s->gen[0].n && !s->gen[1].n)
        return false;
    uint64_t h = line_hash(p, n);
    return has(&s->gen[0], h) || has(&s->gen[1], h);
}

/* Read from the byte before the window, so that a line the window cuts is
 * recognised (its piece is the first) and left out. */
void ll_lineset_load(struct ll_lineset *s, const char *path, uint64_t bytes)
{
    s->window = bytes;
    int fd = bytes ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint64_t at = size > bytes ? size - bytes - 1 : 0;
    bool cut = at > 0; /* the first piece ends a line begun before */
    char *chunk = ll_malloc(READ_CHUNK);
    struct ll_buf line = {0};
    while (at < size) {
        ssize_t n = pread(fd, chunk, READ_CHUNK, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        at += (uint64_t)n;
        for (const char *p = chunk, *end = chunk + n; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            ll_buf_append(&line, p, (size_t)((nl ? nl : end) - p));
            if (!nl)
                break;
            if (!cut)
                ll_lineset_add(s, line.data ? line.data : "", line.len);
            cut = false;
            ll_buf_reset(&line);
            p = nl + 1;
        }
    }
    ll_buf_free(&line);
    ll_free(chunk);
    close(fd);
}

void ll_lineset_free(struct ll_lineset *s)
{
    ll_free(s->gen[0].slots);
    ll_free(s->gen[1].slots);
    *s = (struct ll_lineset){0};
}
