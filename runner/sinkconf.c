/* Delivery sinks from the configuration file and from --sink, and how
 * `logloom config show` prints settings. */
#include "logloom/runner.h"

#include <string.h>

bool ll__delivery_confs(const struct ll_config *cfg, const char *const *specs, size_t n_specs,
                        struct ll_delivery_conf **out, size_t *n)
{
    size_t total = (cfg ? cfg->n_sinks : 0) + n_specs;
    struct ll_delivery_conf *v = ll_calloc(total ? total : 1, sizeof *v);
    bool ok = true;
    size_t k = 0;
    char err[512];
    for (size_t i = 0; cfg && i < cfg->n_sinks; i++) {
        const struct ll_config_item *s = &cfg->sinks[i];
        const struct ll_config_opt *url = ll_config_get(s, "url");
        if (!url) {
            fprintf(stderr, "%s:%d:%d: error: a sink needs a url (postgresql://..., "
                            "redis://..., file:PATH)\n",
                    cfg->path, s->line, s->column);
            ok = false;
            continue;
        }
        /* An unknown kind of sink is a mistake in the file: found here, with
         * its place, by `check` too, and not only when a run connects. */
        if (ll_delivery_url_check(url->value, err, sizeof err) != LL_OK) {
            fprintf(stderr, "%s:%d:%d: error: %s\n", cfg->path, url->line, url->column, err);
            ok = false;
        }
        ll_delivery_conf_init(&v[k], url->value);
        for (size_t o = 0; o < s->n_opts; o++)
            if (&s->opts[o] != url && ll_delivery_conf_set(&v[k], s->opts[o].name,
                                                           s->opts[o].value, err,
                                                           sizeof err) != LL_OK) {
                fprintf(stderr, "%s:%d:%d: error: %s\n", cfg->path, s->opts[o].line,
                        s->opts[o].column, err);
                ok = false;
            }
        k++;
    }
    for (size_t i = 0; i < n_specs; i++) {
        if (ll_delivery_conf_parse(&v[k], specs[i], err, sizeof err) != LL_OK) {
            char masked[512];
            ll_url_mask(specs[i], masked, sizeof masked);
            fprintf(stderr, "logloom: --sink %s: %s\n", masked, err);
            ok = false;
            continue;
        }
        k++;
    }
    *out = v;
    *n = k;
    return ok;
}

void ll__delivery_confs_free(struct ll_delivery_conf *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ll_delivery_conf_free(&v[i]);
    ll_free(v);
}

/* ------------------------------------------------------------------------ */
/* Shown as YAML                                                             */

void ll__yaml_str(const char *s)
{
    struct ll_buf b = {0};
    ll_buf_json_str(&b, s, strlen(s)); /* a JSON string is a YAML double-quoted scalar */
    fputs(b.data, stdout);
    ll_buf_free(&b);
}

void ll__show_duration(const char *indent, const char *name, int64_t ns)
{
    char d[32];
    ll_duration_format(ns, d);
    printf("%s%s: %s\n", indent, name, d);
}
