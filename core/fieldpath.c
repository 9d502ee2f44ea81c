/* Field path syntax: a.b.c, with ["..."] for keys holding dots or dashes. */
#include "logloom/core.h"

#include <string.h>

int ll_field_path_parse(const char *path, char *scratch, struct ll_str *comp, size_t *n,
                        char *errstr, size_t errstr_size)
{
    const char *p = path;
    char *out = scratch;
    *n = 0;
    if (!*p) {
        snprintf(errstr, errstr_size, "empty field path");
        return LL_EINVAL;
    }
    while (*p) {
        if (*n == LL_PATH_MAX_PARTS) {
            snprintf(errstr, errstr_size, "field path '%s' has more than %d parts", path,
                     LL_PATH_MAX_PARTS);
            return LL_EINVAL;
        }
        char *start = out;
        if (*p == '[') {
            char q = p[1];
            if (q != '"' && q != '\'') {
                snprintf(errstr, errstr_size,
                         "field path '%s': expected a quote after '[' at column %d", path,
                         (int)(p - path) + 2);
                return LL_EINVAL;
            }
            p += 2;
            while (*p && *p != q) {
                if (*p == '\\' && p[1])
                    p++;
                *out++ = *p++;
            }
            if (p[0] != q || p[1] != ']') {
                snprintf(errstr, errstr_size, "field path '%s': unterminated [\"...\"]", path);
                return LL_EINVAL;
            }
            p += 2;
        } else {
            while (*p && *p != '.' && *p != '[')
                *out++ = *p++;
        }
        if (out == start) {
            snprintf(errstr, errstr_size, "field path '%s': empty part at column %d", path,
                     (int)(p - path) + 1);
            return LL_EINVAL;
        }
        comp[(*n)++] = (struct ll_str){start, (size_t)(out - start)};
        if (*p == '.') {
            p++;
            if (!*p) {
                snprintf(errstr, errstr_size, "field path '%s' ends with '.'", path);
                return LL_EINVAL;
            }
        } else if (*p && *p != '[') {
            snprintf(errstr, errstr_size, "field path '%s': unexpected '%c' at column %d",
                     path, *p, (int)(p - path) + 1);
            return LL_EINVAL;
        }
    }
    return LL_OK;
}

int ll_field_path_check(const char *path, char *errstr, size_t errstr_size)
{
    struct ll_str comp[LL_PATH_MAX_PARTS];
    size_t n;
    char *scratch = ll_malloc(strlen(path) + 1);
    int rc = ll_field_path_parse(path, scratch, comp, &n, errstr, errstr_size);
    ll_free(scratch);
    return rc;
}

