/* Container log framing: docker json-file and CRI lines (or whatever the
 * first byte's format says) pushed through a deframer line by line, then
 * flushed, as the tailer does with a file's lines. Checks what the
 * deframer promises: lines within max_len, and partial lines only from
 * flushing or held. */
#include "fuzz.h"
#include "logloom/ingest.h"

static void setup(void)
{
}

static void check(const struct ll_frame *f, size_t max_len)
{
    if (f->line.len > max_len || (f->line.len && !f->line.ptr))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const enum ll_frame_format formats[] = {LL_FRAME_AUTO, LL_FRAME_PLAIN,
                                                   LL_FRAME_DOCKER, LL_FRAME_CRI};
    enum ll_frame_format fmt = formats[data[0] & 3];
    size_t max_len = 16 + (size_t)data[1] * 16;
    data += 2;
    size -= 2;
    ll_deframer *d = ll_deframer_new(fmt, max_len);
    struct ll_frame f;
    while (size) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t len = nl ? (size_t)(nl - data) : size;
        if (ll_deframer_push(d, (const char *)data, len, &f) == 1) {
            if (f.partial)
                abort(); /* a complete line is never partial */
            check(&f, max_len);
        }
        data += nl ? len + 1 : len;
        size -= nl ? len + 1 : len;
    }
    for (int i = 0; i < 3 && ll_deframer_flush(d, &f); i++) {
        if (!f.partial)
            abort();
        check(&f, max_len);
    }
    ll_deframer_destroy(d);
    return 0;
}
