/* The line scanner against yajl (json_trace.h): a line the scanner takes,
 * yajl takes too, with the same callbacks on the same bytes, and its UTF-8
 * is strict. Lines the scanner leaves go to yajl, so they need no check. */
#include "fuzz.h"

#include "../json_trace.h"

static struct ll_buf scratch;

static void setup(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    char *mine = scan(line, size, &scratch);
    if (!mine)
        return 0;
    char *ref = yajl(line, size);
    if (!ref || strcmp(mine, ref) != 0 || !ll_utf8_valid(line, size))
        abort();
    free(mine);
    free(ref);
    return 0;
}
