/* The scanner of json_scan.h, for callers whose callbacks are not known
 * at compile time (tests, the fuzz target, the benchmark). */
#include "json_scan.h"

bool ll__json_scan(const char *line, size_t len, const yajl_callbacks *cb, void *ctx,
                   struct ll_buf *scratch)
{
    return ll__json_scan_with(line, len, cb, ctx, scratch);
}
