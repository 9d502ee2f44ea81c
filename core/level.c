/* Log levels as the loggers spell them, and logloom's own diagnostics. */
#include "logloom/core.h"

#include <errno.h>
#include <string.h>

static const struct {
    const char *name;
    enum ll_level level;
} level_names[] = {
    {"trace", LL_LEVEL_TRACE},   {"finest", LL_LEVEL_TRACE},  {"finer", LL_LEVEL_TRACE},
    {"debug", LL_LEVEL_DEBUG},   {"verbose", LL_LEVEL_DEBUG}, {"silly", LL_LEVEL_DEBUG},
    {"fine", LL_LEVEL_DEBUG},    {"dbg", LL_LEVEL_DEBUG},     {"info", LL_LEVEL_INFO},
    {"information", LL_LEVEL_INFO}, {"informational", LL_LEVEL_INFO},
    {"notice", LL_LEVEL_INFO},   {"http", LL_LEVEL_INFO},     {"log", LL_LEVEL_INFO},
    {"default", LL_LEVEL_INFO},  {"warn", LL_LEVEL_WARN},     {"warning", LL_LEVEL_WARN},
    {"error", LL_LEVEL_ERROR},   {"err", LL_LEVEL_ERROR},     {"severe", LL_LEVEL_ERROR},
    {"fatal", LL_LEVEL_FATAL},   {"critical", LL_LEVEL_FATAL}, {"crit", LL_LEVEL_FATAL},
    {"alert", LL_LEVEL_FATAL},   {"emerg", LL_LEVEL_FATAL},   {"emergency", LL_LEVEL_FATAL},
    {"panic", LL_LEVEL_FATAL},
};

enum ll_level ll_level_from_name(const char *s, size_t len)
{
    if (len && ((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) {
        int64_t n = 0;
        size_t i = s[0] == '-' ? 1 : 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && n < 1000; i++)
            n = n * 10 + (s[i] - '0');
        return i == len && s[0] != '-' ? ll_level_from_number(n) : LL_LEVEL_NONE;
    }
    struct ll_str v = {s, len};
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (ll_str_eq_nocase(v, ll_str_c(level_names[i].name)))
            return level_names[i].level;
    return LL_LEVEL_NONE;
}

enum ll_level ll_level_from_number(int64_t n)
{
    if (n < 0)
        return LL_LEVEL_NONE;
    if (n < 10) { /* syslog severities: 0 emerg .. 7 debug */
        static const enum ll_level syslog[] = {
            LL_LEVEL_FATAL, LL_LEVEL_FATAL, LL_LEVEL_FATAL, LL_LEVEL_ERROR,
            LL_LEVEL_WARN,  LL_LEVEL_INFO,  LL_LEVEL_INFO,  LL_LEVEL_DEBUG};
        return n < 8 ? syslog[n] : LL_LEVEL_DEBUG;
    }
    /* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal;
     * custom levels in between round down to the standard one below. */
    if (n < 20)
        return LL_LEVEL_TRACE;
    if (n < 30)
        return LL_LEVEL_DEBUG;
    if (n < 40)
        return LL_LEVEL_INFO;
    if (n < 50)
        return LL_LEVEL_WARN;
    if (n < 60)
        return LL_LEVEL_ERROR;
    return LL_LEVEL_FATAL;
}

const char *ll_level_name(enum ll_level level)
{
    static const char *const names[] = {"-", "trace", "debug", "info", "warn", "error", "fatal"};
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "-";
}

static enum ll_level log_threshold = LL_LEVEL_INFO;
static bool log_json;

void ll_log_set_level(enum ll_level level)
{
    log_threshold = level;
}

void ll_log_set_json(bool json)
{
    log_json = json;
}

bool ll_log_enabled(enum ll_level level)
{
    return level >= log_threshold;
}

void ll_log_emit(enum ll_level level, const char *component, const char *fmt, ...)
{
    int saved = errno;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_json) {
        /* One JSON line per message, as a log collector wants it; written
         * with one call so lines from several threads do not mix. */
        char ts[LL_TIME_BUFSZ];
        ll_time_format(ll_clock_real_ns(), ts);
        struct ll_buf b = {0};
        ll_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":", ts,
                      ll_level_name(level));
        ll_buf_json_str(&b, component, strlen(component));
        ll_buf_puts(&b, ",\"msg\":");
        ll_buf_json_str(&b, msg, strlen(msg));
        ll_buf_puts(&b, "}\n");
        fwrite(b.data, 1, b.len, stderr);
        ll_buf_free(&b);
    } else {
        /* Control characters escaped: a message can quote what a log line
         * or a file name held, and must not fake a line of its own or drive
         * a terminal. One call, as above. */
        struct ll_buf b = {0};
        ll_buf_printf(&b, "logloom: %s: %s: ", ll_level_name(level), component);
        ll_buf_text(&b, msg, strlen(msg));
        ll_buf_putc(&b, '\n');
        fwrite(b.data, 1, b.len, stderr);
        ll_buf_free(&b);
    }
    errno = saved;
}
