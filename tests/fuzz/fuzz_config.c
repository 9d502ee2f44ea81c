/* The YAML configuration: loaded, then read into `logloom run`'s settings
 * (sources, sinks, decode, correlation, checkpoints), as `logloom check`
 * does. Every problem must be reported with a position, never crash. */
#include "fuzz.h"
#include "logloom/runner.h"

static void setup(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_file("logloom.yaml", data, size, path, sizeof path);
    struct ll_config cfg;
    struct ll_buf errors = {0};
    if (ll_config_load(path, &cfg, &errors) == LL_OK) {
        struct ll__run_conf rc;
        ll__run_conf_load(&cfg, &rc);
        ll__run_conf_free(&rc);
    } else if (!errors.len) {
        abort(); /* a rejected file says why */
    }
    ll_config_free(&cfg);
    ll_buf_free(&errors);
    return 0;
}
