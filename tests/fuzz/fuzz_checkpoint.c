/* Checkpoints read back at start: a file position (*.ckpt), and the
 * tombstones of delivered workflows (closed.json, also the metadata of a
 * Kafka commit, which any member of the group can write). Damaged ones
 * are ignored with a warning; none may crash the start. */
#include "fuzz.h"
#include "logloom/runner.h"
#include "logloom/ingest.h"

static void setup(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512], err[256];
    fuzz_file("0-1.ckpt", data, size, path, sizeof path);
    struct ll_tail_pos *pos;
    size_t n;
    if (ll_checkpoints_load(fuzz_dir, &pos, &n, err, sizeof err) == LL_OK)
        ll_checkpoints_free(pos, n);

    fuzz_file("closed.json", data, size, path, sizeof path);
    struct ll__closed c;
    ll__closed_init(&c);
    ll__closed_load(&c, fuzz_dir, err, sizeof err);
    ll__closed_free(&c);

    char *meta = malloc(size + 1); /* commit metadata: a C string */
    memcpy(meta, data, size);
    meta[size] = '\0';
    ll__closed_init(&c);
    ll__closed_parse(&c, meta, "fuzz/0");
    ll__closed_free(&c);
    free(meta);
    return 0;
}
