/* Allocation wrappers: the one place that decides what running out of memory
 * means (abort with a message), and the error strings. */
#include "logloom/core.h"

#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
    fprintf(stderr, "logloom: out of memory allocating %zu bytes\n", size);
    abort();
}

void *ll_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *ll_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *ll_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *ll_reallocarray(void *ptr, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    return ll_realloc(ptr, n * size);
}

char *ll_strndup(const char *s, size_t len)
{
    char *p = ll_malloc(len + 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ll_strdup(const char *s)
{
    return ll_strndup(s, strlen(s));
}

void ll_free(void *ptr)
{
    free(ptr);
}

const char *ll_err_str(int err)
{
    switch (err) {
    case LL_OK: return "success";
    case LL_EAGAIN: return "try again";
    case LL_EOF: return "end of input";
    case LL_EINVAL: return "invalid argument";
    case LL_EIO: return "input/output error";
    case LL_ENOENT: return "not found";
    case LL_EPARSE: return "malformed input";
    case LL_ETOOLONG: return "size limit exceeded";
    case LL_ECORRUPT: return "corrupt or truncated stream";
    default: return "unknown error";
    }
}
