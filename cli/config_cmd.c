/* `logloom config`: shows the configuration a run would use (every
 * default filled in, every password masked), checks a file, and lists
 * every option with its default and meaning. */
#include "logloom/core.h"
#include "logloom/runner.h"
#include "logloom/sinks.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"

void ll_cmd_config_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom config show [--config FILE] [--sink URL]...\n"
            "       logloom config check FILE\n"
            "       logloom config options [--markdown] [SECTION]...\n"
            "\n"
            "  show    the sinks and rules a run would use, every default filled in and\n"
            "          every password masked\n"
            "  check   report every problem of a configuration file with file:line:column\n"
            "  options every option of each SECTION (sources, decode, correlation,\n"
            "          metrics, checkpoints, log, topology, top, sinks; none: all): its\n"
            "          default and its meaning; --markdown writes the README's tables\n"
            "\n"
            "exit status: 0 fine, 1 problems, 2 bad arguments\n");
}

static void show_sink(const struct ll_delivery_conf *c)
{
    char masked[1024];
    ll_url_mask(c->url, masked, sizeof masked);
    printf("  - url: ");
    ll__yaml_str(masked);
    printf("\n    receive: [%s]\n",
           c->receive == (LL_RECEIVE_ALERTS | LL_RECEIVE_TIMELINES) ? "alerts, timelines"
           : c->receive == LL_RECEIVE_TIMELINES                    ? "timelines"
                                                                   : "alerts");
    printf("    batch: %zu\n", c->batch);
    ll__show_duration("    ", "linger", c->linger_ns);
    printf("    queue: %zu\n", c->queue);
    ll__show_duration("    ", "retry_min", c->retry_min_ns);
    ll__show_duration("    ", "retry_max", c->retry_max_ns);
    ll__show_duration("    ", "connect_timeout", c->connect_timeout_ns);
    ll__show_duration("    ", "io_timeout", c->io_timeout_ns);
    if (strncmp(c->url, "redis", 5) == 0 || strncmp(c->url, "unix:", 5) == 0) {
        printf("    stream: ");
        ll__yaml_str(c->stream);
        printf("\n    timeline_stream: ");
        ll__yaml_str(c->timeline_stream);
        printf("\n    channel: ");
        ll__yaml_str(c->channel);
        printf("\n    maxlen: %llu\n", (unsigned long long)c->maxlen);
        ll__show_duration("    ", "dedupe_ttl", c->dedupe_ttl_ns);
    }
    if (strncmp(c->url, "file:", 5) == 0)
        printf("    dedupe_bytes: %llu\n", (unsigned long long)c->dedupe_bytes);
}

static int config_show(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"sink", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    const char **specs = ll_calloc((size_t)argc, sizeof *specs);
    size_t n_specs = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 's')
            specs[n_specs++] = optarg;
        else {
            ll_free(specs);
            ll_cmd_config_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? LL_EXIT_OK : LL_EXIT_USAGE;
        }
    }
    struct ll_config cfg = {0};
    struct ll_buf errors = {0};
    int status = LL_EXIT_OK;
    if (path && ll_config_load(path, &cfg, &errors) != LL_OK) {
        fputs(errors.data ? errors.data : "", stderr);
        status = LL_EXIT_FAILURE;
    }
    struct ll_delivery_conf *confs = NULL;
    size_t n = 0;
    if (!ll__delivery_confs(path ? &cfg : NULL, specs, n_specs, &confs, &n))
        status = LL_EXIT_FAILURE;
    /* A daemon's configuration: every section, defaults filled in. */
    struct ll__run_conf rc = {0};
    bool daemon = status == LL_EXIT_OK && cfg.n_sources;
    if (daemon && !ll__run_conf_load(&cfg, &rc))
        status = LL_EXIT_FAILURE;
    if (status == LL_EXIT_OK) {
        printf("# the configuration a run would use; passwords are masked\n");
        if (daemon)
            ll__run_conf_show(&rc);
        printf("sinks:%s\n", n ? "" : " []  # only the terminal");
        for (size_t i = 0; i < n; i++)
            show_sink(&confs[i]);
        printf("rules: [");
        for (size_t i = 0; i < cfg.n_rules; i++) {
            printf(i ? ", " : "");
            ll__yaml_str(cfg.rules[i]);
        }
        printf("%s]\n", cfg.n_rules ? "" : "builtin");
    }
    ll__run_conf_free(&rc);
    ll__delivery_confs_free(confs, n);
    ll_config_free(&cfg);
    ll_buf_free(&errors);
    ll_free(specs);
    return status;
}

static int config_check(int argc, char **argv)
{
    if (argc != 2) {
        ll_cmd_config_usage(stderr);
        return LL_EXIT_USAGE;
    }
    struct ll_config cfg = {0};
    struct ll_buf errors = {0};
    int rc = ll_config_load(argv[1], &cfg, &errors);
    fputs(errors.data ? errors.data : "", stderr);
    struct ll_delivery_conf *confs = NULL;
    size_t n = 0;
    bool ok;
    if (cfg.n_sources) { /* a daemon's: every section */
        struct ll__run_conf run;
        ok = ll__run_conf_load(&cfg, &run) && rc == LL_OK;
        ll__run_conf_free(&run);
    } else {
        ok = ll__delivery_confs(&cfg, NULL, 0, &confs, &n) && rc == LL_OK;
    }
    if (ok)
        printf("%s: %zu source%s, %zu sink%s, %zu rule path%s, no problems\n", argv[1],
               cfg.n_sources, cfg.n_sources == 1 ? "" : "s", cfg.n_sinks,
               cfg.n_sinks == 1 ? "" : "s", cfg.n_rules, cfg.n_rules == 1 ? "" : "s");
    ll__delivery_confs_free(confs, n);
    ll_config_free(&cfg);
    ll_buf_free(&errors);
    return rc == LL_EIO ? LL_EXIT_USAGE : ok ? LL_EXIT_OK : LL_EXIT_FAILURE;
}

int ll_cmd_config(int argc, char **argv)
{
    if (argc < 2) {
        ll_cmd_config_usage(stderr);
        return LL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "show") == 0)
        return config_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return config_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "options") == 0) {
        bool markdown = argc > 2 && strcmp(argv[2], "--markdown") == 0;
        return ll__run_conf_options(stdout, markdown, argv + 2 + markdown,
                                    (size_t)(argc - 2 - markdown))
                   ? 0
                   : 2;
    }
    ll_cmd_config_usage(strcmp(argv[1], "help") == 0 ? stdout : stderr);
    return strcmp(argv[1], "help") == 0 ? LL_EXIT_OK : LL_EXIT_USAGE;
}
