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

static void put(struct ll_lineset *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->n_slots) {
        uint64_t *old = s->slots;
        size_t n_old = s->n_slots;
        s->n_slots = n_old ? n_old * 2 : 1024;
        s->slots = ll_calloc(s->n_slots, sizeof *s->slots);
        s->n = 0;
        for (size_t i = 0; i < n_old; i++)
            if (old[i])
                put(s, old[i]);
        ll_free(old);
    }
    size_t mask = s->n_slots - 1, i = h & mask;
    for (; s->slots[i]; i = (i + 1) & mask)
        if (s->slots[i] == h)
            return;
    s->slots[i] = h;
    s->n++;
}

void ll_lineset_add(struct ll_lineset *s, const char *p, size_t n)
{
    put(s, line_hash(p, n));
}

bool ll_lineset_has(const struct ll_lineset *s, const char *p, size_t n)
{
    if (!s->n)
        return false;
    uint64_t h = line_hash(p, n);
    size_t mask = s->n_slots - 1;
    for (size_t i = h & mask; s->slots[i]; i = (i + 1) & mask)
        if (s->slots[i] == h)
            return true;
    return false;
}

/* Read from the byte before the window, so that a line the window cuts is
 * recognised (its piece is the first) and left out. */
void ll_lineset_load(struct ll_lineset *s, const char *path, uint64_t bytes)
{
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
    ll_free(s->slots);
    *s = (struct ll_lineset){0};
}
