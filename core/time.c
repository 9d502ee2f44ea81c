/* Event time: parsing of the timestamp shapes loggers write, formatting as
 * RFC 3339, and durations. All arithmetic is integer nanoseconds. */
#include "logloom/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s[*i]. */
static bool read_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return false;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return true;
}

/* ns = secs * 1e9 + frac (0 <= frac < 1e9), refusing what int64 cannot
 * hold and INT64_MIN (LL_TIME_NONE): every instant ll_time_format() can
 * write parses back, the first and last second of the range included. */
static int combine(int64_t secs, int64_t frac_ns, int64_t *ns)
{
    if (secs >= 0) {
        const int64_t top = INT64_MAX / LL_NS_PER_SEC;
        if (secs > top || (secs == top && frac_ns > INT64_MAX % LL_NS_PER_SEC))
            return LL_EPARSE;
        *ns = secs * LL_NS_PER_SEC + frac_ns;
        return LL_OK;
    }
    /* From the next second down, so that the lowest one does not overflow. */
    if (secs + 1 < INT64_MIN / LL_NS_PER_SEC)
        return LL_EPARSE;
    int64_t next = (secs + 1) * LL_NS_PER_SEC, below = LL_NS_PER_SEC - frac_ns;
    if (next < INT64_MIN + 1 + below)
        return LL_EPARSE;
    *ns = next - below;
    return LL_OK;
}

/* Optional zone: Z, +HH, +HHMM, +HH:MM. Sets *off_s (seconds east of UTC). */
static bool parse_zone(const char *s, size_t len, size_t *i, int *off_s)
{
    *off_s = 0;
    if (*i == len)
        return true;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        return true;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return false;
    int sign = s[*i] == '-' ? -1 : 1;
    (*i)++;
    int hh = 0, mm = 0;
    if (!read_digits(s, len, i, 2, &hh))
        return false;
    if (*i < len && s[*i] == ':')
        (*i)++;
    if (*i < len && !read_digits(s, len, i, 2, &mm))
        return false;
    if (hh > 23 || mm > 59)
        return false;
    *off_s = sign * (hh * 3600 + mm * 60);
    return true;
}

static int parse_iso(const char *s, size_t len, int64_t *ns)
{
    size_t i = 0;
    int y, mo, d, hh = 0, mi = 0, ss = 0, off = 0;
    int64_t frac = 0;
    if (!read_digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &d))
        return LL_EPARSE;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
        return LL_EPARSE;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!read_digits(s, len, &i, 2, &hh) || i >= len || s[i++] != ':' ||
            !read_digits(s, len, &i, 2, &mi))
            return LL_EPARSE;
        if (i < len && s[i] == ':') {
            i++;
            if (!read_digits(s, len, &i, 2, &ss))
                return LL_EPARSE;
        }
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            i++;
            int64_t scale = 100000000;
            size_t start = i;
            for (; i < len && is_digit(s[i]); i++, scale /= 10)
                if (scale)
                    frac += (s[i] - '0') * scale;
            if (i == start)
                return LL_EPARSE;
        }
        if (hh > 23 || mi > 59 || ss > 60)
            return LL_EPARSE;
        if (!parse_zone(s, len, &i, &off))
            return LL_EPARSE;
    }
    if (i != len)
        return LL_EPARSE;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 +
                   mi * 60 + ss - off;
    return combine(secs, frac, ns);
}

/* The common case of ll_time_parse_epoch(): a plain integer without
 * leading zeros, such as pino's milliseconds. false: take the general way. */
static bool epoch_integer(const char *s, size_t len, int64_t *ns)
{
    if (len == 0 || len > 17 || s[0] < '1' || s[0] > '9')
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    /* The unit by the number of digits, as below: s, ms, us, then ns. */
    int64_t unit = len <= 11 ? 1000000000 : len <= 14 ? 1000000 : 1000;
    if (v > INT64_MAX / unit)
        return false;
    *ns = v * unit;
    return true;
}

int ll_time_parse_epoch(const char *s, size_t len, int64_t *ns)
{
    if (epoch_integer(s, len, ns))
        return LL_OK;
    /* The value is D * 10^exp10 where D holds the significant digits. */
    char digits[40];
    int nd = 0, exp10 = 0;
    size_t i = 0;
    bool any = false, seen_dot = false;
    for (; i < len && (is_digit(s[i]) || (s[i] == '.' && !seen_dot)); i++) {
        if (s[i] == '.') {
            seen_dot = true;
            continue;
        }
        any = true;
        if (nd == 0 && s[i] == '0') {
            if (seen_dot)
                exp10--;
            continue;
        }
        if (nd < (int)sizeof digits) {
            digits[nd++] = s[i];
            if (seen_dot)
                exp10--;
        } else if (!seen_dot) {
            exp10++;
        }
    }
    if (!any)
        return LL_EPARSE;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int sign = 1, e = 0;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            sign = s[i++] == '-' ? -1 : 1;
        if (i == len)
            return LL_EPARSE;
        for (; i < len && is_digit(s[i]); i++)
            if (e < 1000)
                e = e * 10 + (s[i] - '0');
        exp10 += sign * e;
    }
    if (i != len)
        return LL_EPARSE;
    /* Number of digits before the decimal point of the value. */
    int int_digits = nd + exp10;
    int unit_exp = int_digits <= 11 ? 9 : int_digits <= 14 ? 6 : int_digits <= 17 ? 3 : 0;
    int shift = exp10 + unit_exp; /* ns = D * 10^shift */
    if (nd == 0) {
        *ns = 0;
        return LL_OK;
    }
    if (nd + shift > 19)
        return LL_EPARSE;
    int64_t v = 0;
    int keep = nd + shift < nd ? nd + shift : nd; /* drop sub-ns digits */
    for (int k = 0; k < keep; k++) {
        if (v > (INT64_MAX - 9) / 10)
            return LL_EPARSE;
        v = v * 10 + (digits[k] - '0');
    }
    for (int k = 0; k < shift; k++) {
        if (v > INT64_MAX / 10)
            return LL_EPARSE;
        v *= 10;
    }
    *ns = v;
    return LL_OK;
}

int ll_time_parse(const char *s, size_t len, int64_t *ns)
{
    while (len && (s[0] == ' ' || s[0] == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= 10 && s[4] == '-')
        return parse_iso(s, len, ns);
    if (len && (is_digit(s[0]) || s[0] == '.'))
        return ll_time_parse_epoch(s, len, ns);
    return LL_EPARSE;
}

/* Writes @p v as exactly @p width digits. */
static char *put_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

size_t ll_time_format(int64_t ns, char *out)
{
    int64_t secs = ns / LL_NS_PER_SEC, frac = ns % LL_NS_PER_SEC;
    if (frac < 0) {
        frac += LL_NS_PER_SEC;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* By hand, not snprintf: this runs for every timestamp written. */
    char *p = out;
    if (y < 0 || y > 9999)
        p += snprintf(p, LL_TIME_BUFSZ, "%+lld", (long long)y);
    else
        p = put_digits(p, (uint64_t)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (uint64_t)(rem / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (uint64_t)(rem % 60), 2);
    if (frac) {
        int digits = frac % 1000000 == 0 ? 3 : frac % 1000 == 0 ? 6 : 9;
        int64_t shown = digits == 3 ? frac / 1000000 : digits == 6 ? frac / 1000 : frac;
        *p++ = '.';
        p = put_digits(p, (uint64_t)shown, digits);
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}

int ll_size_parse(const char *s, uint64_t *bytes)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return LL_EPARSE;
    unsigned shift = *end == 'K' || *end == 'k'   ? 10
                     : *end == 'M' || *end == 'm' ? 20
                     : *end == 'G' || *end == 'g' ? 30
                                                  : 0;
    end += shift != 0;
    if (*end || v > (UINT64_C(1) << 40) >> shift)
        return LL_EPARSE;
    *bytes = (uint64_t)v << shift;
    return LL_OK;
}

int ll_duration_parse(const char *s, int64_t *ns)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1},           {"us", 1000},      {"µs", 1000},
                 {"ms", LL_NS_PER_MS}, {"s", LL_NS_PER_SEC}, {"m", 60 * LL_NS_PER_SEC},
                 {"h", 3600 * LL_NS_PER_SEC}, {"d", 86400 * LL_NS_PER_SEC}};
    size_t len = strlen(s), i = 0;
    int64_t whole = 0, frac = 0, scale = 1;
    for (; i < len && is_digit(s[i]); i++) {
        if (whole > (INT64_MAX - (s[i] - '0')) / 10)
            return LL_EPARSE;
        whole = whole * 10 + (s[i] - '0');
    }
    size_t int_end = i;
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++)
            if (scale < LL_NS_PER_SEC) {
                frac = frac * 10 + (s[i] - '0');
                scale *= 10;
            }
    }
    if (int_end == 0 && scale == 1)
        return LL_EPARSE;
    int64_t unit = LL_NS_PER_SEC;
    if (i < len) {
        unit = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
            if (strcmp(s + i, units[k].name) == 0)
                unit = units[k].ns;
        if (!unit)
            return LL_EPARSE;
    }
    /* frac / scale of a unit, exactly (to the ns, rounded down) and
     * without overflow: frac < scale <= 1e9. */
    int64_t part = unit / scale * frac + unit % scale * frac / scale;
    if (whole > (INT64_MAX - part) / unit)
        return LL_EPARSE;
    *ns = whole * unit + part;
    return LL_OK;
}

void ll_duration_format(int64_t ns, char out[32])
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"d", 86400 * LL_NS_PER_SEC}, {"h", 3600 * LL_NS_PER_SEC},
                 {"m", 60 * LL_NS_PER_SEC},    {"s", LL_NS_PER_SEC},
                 {"ms", LL_NS_PER_MS},         {"us", 1000}};
    if (ns == 0) {
        snprintf(out, 32, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ns && ns % units[i].ns == 0) {
            snprintf(out, 32, "%lld%s", (long long)(ns / units[i].ns), units[i].name);
            return;
        }
    snprintf(out, 32, "%lldns", (long long)ns);
}

int64_t ll_clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LL_NS_PER_SEC + ts.tv_nsec;
}

int64_t ll_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LL_NS_PER_SEC + ts.tv_nsec;
}
