/* Byte views, UTF-8 validation and the growable buffer with its JSON and
 * base64 writers. */
#include "logloom/core.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ll_str ll_str_c(const char *s)
{
    return (struct ll_str){s, s ? strlen(s) : 0};
}

bool ll_str_eq(struct ll_str a, struct ll_str b)
{
    return a.len == b.len && ll_mem_eq(a.ptr, b.ptr, a.len);
}

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool ll_str_eq_nocase(struct ll_str a, struct ll_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (ascii_lower((unsigned char)a.ptr[i]) != ascii_lower((unsigned char)b.ptr[i]))
            return false;
    return true;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 if
 * the bytes there are not one (Unicode 15, table 3-7). */
size_t ll_utf8_seq_len(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n < need)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

bool ll_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const uint64_t high = UINT64_C(0x8080808080808080);
    size_t i = 0;
    /* ASCII, most of any log, 32 bytes at a time (every line that decodes
     * is checked), then 8 at a time between other characters. */
    for (; len - i >= 32; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        if ((w[0] | w[1] | w[2] | w[3]) & high)
            break;
    }
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & high)) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = ll_utf8_seq_len((const char *)p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

void ll_buf_reserve(struct ll_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = ll_realloc(b->data, cap);
    b->cap = cap;
}

void ll_buf_append(struct ll_buf *b, const void *p, size_t len)
{
    ll_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ll_buf_puts(struct ll_buf *b, const char *s)
{
    ll_buf_append(b, s, strlen(s));
}

void ll_buf_putc(struct ll_buf *b, char c)
{
    ll_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* Digits of @p v, backwards from @p end; @returns where they start. */
static char *u64_digits(uint64_t v, char *end)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

size_t ll_fmt_i64(int64_t v, char out[20])
{
    char tmp[20];
    /* The magnitude in unsigned arithmetic: INT64_MIN has no positive twin. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(mag, tmp + sizeof tmp);
    size_t n = (size_t)(tmp + sizeof tmp - p);
    if (v < 0)
        *out++ = '-';
    memcpy(out, p, n);
    return n + (v < 0);
}

void ll_buf_u64(struct ll_buf *b, uint64_t v)
{
    char tmp[20];
    char *p = u64_digits(v, tmp + sizeof tmp);
    ll_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void ll_buf_i64(struct ll_buf *b, int64_t v)
{
    char tmp[20];
    ll_buf_append(b, tmp, ll_fmt_i64(v, tmp));
}

void ll_buf_printf(struct ll_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ll_buf_reserve(b, 64);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room) {
        ll_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void ll_buf_reset(struct ll_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ll_buf_free(struct ll_buf *b)
{
    ll_free(b->data);
    *b = (struct ll_buf){0};
}

int ll_buf_write(const struct ll_buf *b, FILE *fp)
{
    if (b->len && fwrite(b->data, 1, b->len, fp) != b->len)
        return LL_EIO;
    return LL_OK;
}

int ll_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Escapes control characters and replaces bytes that are not UTF-8 with
 * U+FFFD; in JSON mode also quotes and backslashes. */
static void put_escaped(struct ll_buf *b, const char *s, size_t len, bool json)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    ll_buf_reserve(b, len);
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && (!json || (c != '"' && c != '\\'))) {
            i++;
            continue;
        }
        size_t n = c >= 0x80 ? ll_utf8_seq_len((const char *)p + i, len - i) : 0;
        /* C1 controls (U+0080..U+009F) are only dangerous on a terminal. */
        bool c1 = !json && n == 2 && c == 0xC2 && p[i + 1] < 0xA0;
        if (n && !c1) {
            i += n;
            continue;
        }
        ll_buf_append(b, p + run, i - run);
        if (c1) {
            char esc[6] = {'\\', 'u', '0', '0', hex[p[i + 1] >> 4], hex[p[i + 1] & 15]};
            ll_buf_append(b, esc, sizeof esc);
            i += 2;
            run = i;
            continue;
        }
        switch (c) {
        case '"': ll_buf_append(b, "\\\"", 2); break;
        case '\\': ll_buf_append(b, "\\\\", 2); break;
        case '\n': ll_buf_append(b, "\\n", 2); break;
        case '\r': ll_buf_append(b, "\\r", 2); break;
        case '\t': ll_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                ll_buf_append(b, esc, sizeof esc);
            } else {
                ll_buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            }
        }
        i++;
        run = i;
    }
    ll_buf_append(b, p + run, len - run);
}

void ll_buf_json_str(struct ll_buf *b, const char *s, size_t len)
{
    ll_buf_putc(b, '"');
    put_escaped(b, s, len, true);
    ll_buf_putc(b, '"');
}

void ll_buf_json_opt(struct ll_buf *b, struct ll_str s)
{
    if (s.len)
        ll_buf_json_str(b, s.ptr, s.len);
    else
        ll_buf_puts(b, "null");
}

void ll_buf_text(struct ll_buf *b, const char *s, size_t len)
{
    put_escaped(b, s, len, false);
}

void ll_buf_base64(struct ll_buf *b, const void *p, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    ll_buf_reserve(b, (len + 2) / 3 * 4);
    char *out = b->data + b->len;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = tab[(v >> 6) & 63];
        *out++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    b->len = (size_t)(out - b->data);
    b->data[b->len] = '\0';
}

/* Levenshtein distance, ignoring ASCII case; 99 for names too long to care. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[64];
    if (lb >= 64)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = best < sub ? best : sub;
            prev = cur;
        }
    }
    return row[lb];
}

const char *ll_closest(struct ll_str got, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = got.len / 3 + 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(got.ptr, got.len, names[i], strlen(names[i]));
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

void ll_path_cut_last(char *path, size_t size)
{
    char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(path, size, ".");
    else
        slash[slash == path] = '\0';
}

int ll_dirs_make(const char *dir, unsigned mode)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return ENAMETOOLONG;
    for (char *p = path + 1;; p++) {
        bool end = !*p;
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        struct stat st;
        if (mkdir(path, (mode_t)mode) != 0 && (errno != EEXIST || stat(path, &st) != 0 ||
                                       !S_ISDIR(st.st_mode)))
            return errno == EEXIST ? ENOTDIR : errno;
        if (end)
            return 0;
        *p = '/';
    }
}

int ll_dir_makeable(const char *dir, char *err, size_t errsz)
{
    char up[PATH_MAX];
    snprintf(up, sizeof up, "%s", dir);
    struct stat st;
    while (stat(up, &st) != 0) /* the nearest that exists */
        ll_path_cut_last(up, sizeof up);
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s: %s is not a directory", dir, up);
        return LL_EIO;
    }
    if (access(up, W_OK | X_OK) != 0) {
        snprintf(err, errsz, "%s: cannot write in %s: %s", dir, up, strerror(errno));
        return LL_EIO;
    }
    return LL_OK;
}
