/* Timestamps: the bytes as a date-time string, as a JSON epoch number and
 * as a duration. Whatever parses must format and parse back to the same
 * value (the round trip config show and the sinks rely on). */
#include "fuzz.h"

static void setup(void)
{
}

static void round_trip(int64_t ns)
{
    char buf[LL_TIME_BUFSZ];
    size_t n = ll_time_format(ns, buf);
    int64_t back;
    if (n >= LL_TIME_BUFSZ || ll_time_parse(buf, n, &back) != LL_OK || back != ns)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int64_t ns;
    if (ll_time_parse(s, size, &ns) == LL_OK)
        round_trip(ns);
    if (ll_time_parse_epoch(s, size, &ns) == LL_OK)
        round_trip(ns);
    char *z = malloc(size + 1); /* durations are C strings */
    memcpy(z, data, size);
    z[size] = '\0';
    if (ll_duration_parse(z, &ns) == LL_OK) {
        char buf[32];
        int64_t back;
        ll_duration_format(ns, buf);
        if (ll_duration_parse(buf, &back) != LL_OK || back != ns)
            abort();
    }
    free(z);
    return 0;
}
