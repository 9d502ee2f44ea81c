/* `logloom run` as it runs beside an application: alerts arrive while the
 * application writes; SIGKILL mid-stream and a restart lose and repeat no
 * alert in a real PostgreSQL; SIGTERM drains, checkpoints and exits 0; a
 * broken rule file on SIGHUP keeps the old rules; metrics say what
 * happened; configuration problems name their places. */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "servers.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

static struct ll_test_pg pg;

static int group_setup(void **state)
{
    e2e_group_setup(state);
    signal(SIGPIPE, SIG_IGN);
    return ll_test_pg_start(&pg) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    kill_started();
    ll_test_pg_destroy(&pg);
    return e2e_group_teardown(state);
}

static long long alerts_in_pg(const char *sql)
{
    struct ll_test_pg on = pg;
    snprintf(on.conninfo, sizeof on.conninfo, "host=%.600s port=%d dbname=run user=postgres",
             pg.dir, pg.port);
    return ll_test_pg_int(&on, sql);
}

/* Waits until @p sql gives @p want (or 20 s pass); @returns the last value. */
static long long wait_for(const char *sql, long long want)
{
    return wait_value(alerts_in_pg, sql, want, 20);
}

/* Waits until @p path holds @p needle @p want times (or 5 s pass);
 * @returns the last count. */
static int wait_count(const char *path, const char *needle, int want)
{
    int n = 0;
    for (int k = 0; k < 100; k++) {
        char *text = access(path, R_OK) == 0 ? read_file(path, NULL) : NULL;
        n = 0;
        for (char *p = text; p && (p = strstr(p, needle)); p++)
            n++;
        free(text);
        if (n == want)
            break;
        sleep_ms(50);
    }
    return n;
}

/* Makes tmpdir/@p name-logs (its path into *@p logs) with an app.log that
 * holds workflows [0, @p n). @returns app.log's path. Free both. */
static char *app_log(const char *name, int n, char **logs)
{
    char path[200];
    snprintf(path, sizeof path, "%s-logs", name);
    *logs = in_tmp(path);
    mkdir(*logs, 0700);
    snprintf(path, sizeof path, "%s-logs/app.log", name);
    char *app = in_tmp(path);
    FILE *fp = fopen(app, "a");
    for (int i = 0; i < n; i++)
        write_workflow(fp, i);
    fclose(fp);
    return app;
}

/* ------------------------------------------------------------------------ */

static void a_crash_mid_stream_loses_and_repeats_no_alert(void **state)
{
    (void)state;
    enum { N = 600 };
    fresh_db(&pg, "run");
    char *logs = in_tmp("crash-logs");
    mkdir(logs, 0700);
    char extra[1400];
    snprintf(extra, sizeof extra,
             "sinks:\n  - url: host=%s port=%d dbname=run user=postgres\n"
             "    receive: both\n    linger: 20ms\n",
             pg.dir, pg.port);
    char *cfg = run_config("crash", logs, extra);
    char *app = in_tmp("crash-logs/agent.log");
    FILE *fp = fopen(app, "a");
    setvbuf(fp, NULL, _IOLBF, 0);
    pid_t pid = start_run(cfg, "crash1");
    int i = 0;
    for (; i < N / 2; i++) {
        write_workflow(fp, i);
        if (i % 50 == 49)
            sleep_ms(30);
    }
    /* Some alerts are in, some still on their way: kill it there. */
    assert_true(wait_for("SELECT least(count(*), 1) FROM logloom.alerts", 1) == 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    long long at_kill = alerts_in_pg("SELECT count(*) FROM logloom.alerts");
    /* The application goes on writing while logloom is down. */
    for (; i < N; i++)
        write_workflow(fp, i);
    fclose(fp);
    pid = start_run(cfg, "crash2");
    assert_int_equal(wait_for("SELECT count(*) FROM logloom.alerts", N), N);
    assert_int_equal(wait_for("SELECT count(*) FROM logloom.timelines", N), N);
    sleep_ms(500); /* anything doubled would show by now */
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(alerts_in_pg("SELECT count(*) FROM logloom.alerts"), N);
    assert_int_equal(alerts_in_pg("SELECT count(DISTINCT correlation_id) FROM logloom.alerts"),
                     N);
    assert_int_equal(alerts_in_pg("SELECT sum(count) FROM logloom.alerts"), N);
    assert_int_equal(alerts_in_pg("SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    print_message("alerts in PostgreSQL when killed: %lld of %d\n", at_kill, N);
    free(app);
    free(cfg);
    free(logs);
}

/* Workflows that overlap all the time (a busy service): the checkpoint
 * still moves on, so workflows already delivered straddle it. Killed
 * there and restarted, logloom reads their second halves again and must
 * not deliver them as partial timelines or alerts. */
static void overlapping_workflows_straddle_the_checkpoint_and_come_once(void **state)
{
    (void)state;
    enum { N = 600, DEPTH = 8 };
    fresh_db(&pg, "run");
    char *logs = in_tmp("ov-logs"), *ckdir = in_tmp("ckpt-ov");
    mkdir(logs, 0700);
    char *rules = write_text(tmpdir, "ov-rules.yaml", RESET_RULE);
    char extra[1400];
    snprintf(extra, sizeof extra,
             "rules: [%s]\nsinks:\n  - url: host=%s port=%d dbname=run user=postgres\n"
             "    receive: both\n",
             rules, pg.dir, pg.port);
    char *cfg = run_config("ov", logs, extra);
    char *app = in_tmp("ov-logs/agent.log");
    FILE *fp = fopen(app, "a");
    setvbuf(fp, NULL, _IOLBF, 0);
    pid_t pid = start_run(cfg, "ov1");
    /* Step s: the start of workflow s, the failure of s - 4, the end of
     * s - 8: eight open at any time. */
    long long at_kill = -1;
    int s = 0;
    for (; s < N + DEPTH; s++) {
        for (int k = 0; k < 3; k++)
            if (s - 4 * k >= 0 && s - 4 * k < N)
                write_step(fp, s - 4 * k, k);
        sleep_ms(8);
        if (pid && s >= N / 2 && s % 10 == 0 && (at_kill = checkpoint_offset(ckdir, app)) > 0) {
            kill(pid, SIGKILL); /* mid-stream, the checkpoint inside the overlap */
            waitpid(pid, NULL, 0);
            pid = 0;
        }
    }
    fclose(fp);
    assert_int_equal(pid, 0); /* the checkpoint moved on before the end */
    char *closed = in_tmp("ckpt-ov/closed.json"), *text = read_file(closed, NULL);
    assert_non_null(strstr(text, "{\"kind\":\"timeline\",\"corr_id\":\"ov-"));
    long long delivered = alerts_in_pg("SELECT count(*) FROM logloom.timelines");
    pid = start_run(cfg, "ov2");
    assert_int_equal(wait_for("SELECT count(*) FROM logloom.timelines", N), N);
    assert_int_equal(wait_for("SELECT count(*) FROM logloom.alerts", N), N);
    sleep_ms(500); /* anything partial would show by now */
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(alerts_in_pg("SELECT count(*) FROM logloom.timelines WHERE event_count = 3"),
                     N);
    assert_int_equal(alerts_in_pg("SELECT count(DISTINCT correlation_id) FROM logloom.timelines"),
                     N);
    assert_int_equal(alerts_in_pg("SELECT count(*) FROM logloom.alerts"), N);
    assert_int_equal(alerts_in_pg("SELECT count(DISTINCT correlation_id) FROM logloom.alerts"),
                     N);
    char *errlog = in_tmp("ov2.err"), *log = read_file(errlog, NULL);
    const char *caught = strstr(log, "caught up: ");
    assert_non_null(caught);
    print_message("killed with the checkpoint at byte %lld, %lld timelines delivered; after "
                  "the restart: %.40s\n", at_kill, delivered, caught);
    assert_true(atoi(caught + strlen("caught up: ")) > 0); /* halves read again, skipped */
    free(log);
    free(errlog);
    free(text);
    free(closed);
    free(app);
    free(cfg);
    free(rules);
    free(ckdir);
    free(logs);
}

static void sigterm_drains_checkpoints_and_exits_0(void **state)
{
    (void)state;
    char *logs, *app = app_log("term", 20, &logs), *out = in_tmp("term-alerts.jsonl");
    char extra[800];
    snprintf(extra, sizeof extra, "sinks: [file:%s]\nshutdown_timeout: 5s\n", out);
    char *cfg = run_config("term", logs, extra);
    pid_t pid = start_run(cfg, "term");
    wait_count(out, "\"type\":\"alert\"", 20);
    int64_t t0 = now_ms();
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_true(now_ms() - t0 < 5000);
    assert_logged("term", "\"msg\":\"stopped; checkpoints at read order");
    assert_logged("term", "\"level\":\"info\",\"component\":\"run\"");
    char ck[600];
    snprintf(ck, sizeof ck, "%s/ckpt-term", tmpdir);
    struct stat st;
    assert_int_equal(stat(ck, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(app);
    free(cfg);
    free(out);
    free(logs);
}

/* One file read alone, busily, with a workflow that stays open at its end:
 * its checkpoint still moves on, up to that workflow's first line. */
static void the_checkpoint_of_a_single_busy_file_moves_on(void **state)
{
    (void)state;
    char *logs = in_tmp("busy-logs");
    mkdir(logs, 0700);
    char *cfg = run_config("busy", logs, "");
    char *app = in_tmp("busy-logs/app.log");
    FILE *fp = fopen(app, "a");
    for (int i = 0; i < 3000; i++)
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"correlationId\":\"b-%d\",\"msg\":\"step\"}\n",
                (long long)now_ms(), i);
    fflush(fp);
    long long open_at = ftell(fp);
    struct stat st;
    assert_int_equal(stat(app, &st), 0);
    char ck[700];
    snprintf(ck, sizeof ck, "%s/ckpt-busy/%llx-%llx.ckpt", tmpdir, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    pid_t pid = start_run(cfg, "busy");
    long long offset = 0;
    for (int k = 0; k < 50 && offset == 0; k++) {
        /* The open workflow: a line every 200 ms, less than session_gap. */
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"correlationId\":\"open\",\"msg\":\"tick\"}\n",
                (long long)now_ms());
        fflush(fp);
        sleep_ms(200);
        char *text = access(ck, R_OK) == 0 ? read_file(ck, NULL) : NULL;
        const char *o = text ? strstr(text, "\"offset\":") : NULL;
        if (o)
            offset = atoll(o + strlen("\"offset\":"));
        free(text);
    }
    fclose(fp);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    print_message("checkpoint at %lld, the open workflow at %lld\n", offset, open_at);
    assert_true(offset > 0);
    assert_true(offset <= open_at);
    free(app);
    free(cfg);
    free(logs);
}

static void sighup_with_a_broken_rule_file_keeps_the_old_rules(void **state)
{
    (void)state;
    char *logs = in_tmp("hup-logs"), *out = in_tmp("hup-alerts.jsonl");
    mkdir(logs, 0700);
    const char *rule_a = "rules:\n"
                         "  - id: rule-a\n"
                         "    symptom: econnreset\n"
                         "    severity: error\n"
                         "    title: a\n"
                         "    remediation: r\n"
                         "    when: {msg: {contains: marker-a}}\n"
                         "    examples: {match: ['{\"msg\":\"marker-a\"}']}\n";
    char *rules = write_text(tmpdir, "hup-rules.yaml", rule_a);
    char extra[1200];
    snprintf(extra, sizeof extra, "sinks: [file:%s]\nrules: [%s]\n", out, rules);
    char *cfg = run_config("hup", logs, extra);
    char *app = in_tmp("hup-logs/app.log");
    pid_t pid = start_run(cfg, "hup");
    sleep_ms(300);
    FILE *fp = fopen(app, "a");
    fprintf(fp, "{\"time\":%lld,\"correlationId\":\"h1\",\"msg\":\"marker-a one\"}\n",
            (long long)now_ms());
    fflush(fp);
    /* A broken rule file, then SIGHUP: the old rules stay. */
    free(write_text(tmpdir, "hup-rules.yaml", "rules:\n  - id: [broken\n"));
    sleep_ms(300);
    kill(pid, SIGHUP);
    sleep_ms(300);
    fprintf(fp, "{\"time\":%lld,\"correlationId\":\"h2\",\"msg\":\"marker-a two\"}\n",
            (long long)now_ms());
    fflush(fp);
    sleep_ms(500);
    /* A good file with another rule: now that one applies. */
    const char *rule_b = "rules:\n"
                         "  - id: rule-b\n"
                         "    symptom: econnreset\n"
                         "    severity: error\n"
                         "    title: b\n"
                         "    remediation: r\n"
                         "    when: {msg: {contains: marker-b}}\n"
                         "    examples: {match: ['{\"msg\":\"marker-b\"}']}\n";
    free(write_text(tmpdir, "hup-rules.yaml", rule_b));
    kill(pid, SIGHUP);
    sleep_ms(300);
    fprintf(fp, "{\"time\":%lld,\"correlationId\":\"h3\",\"msg\":\"marker-a three\"}\n"
                "{\"time\":%lld,\"correlationId\":\"h4\",\"msg\":\"marker-b four\"}\n",
            (long long)now_ms(), (long long)now_ms());
    fclose(fp);
    sleep_ms(800);
    kill(pid, SIGTERM);
    char *errp = in_tmp("hup.err");
    int status = wait_cmd(pid);
    char *log = read_file(errp, NULL);
    if (status != 0)
        fail_msg("logloom run exited %d:\n%s", status, log);
    char *text = read_file(out, NULL);
    assert_non_null(strstr(text, "\"rule\":\"rule-a\",")); /* h1 */
    const char *h2 = strstr(text, "\"correlation_id\":\"h2\"");
    assert_non_null(h2); /* raised by rule-a after the failed reload */
    assert_null(strstr(text, "\"correlation_id\":\"h3\"")); /* rule-a is gone now */
    assert_non_null(strstr(text, "\"correlation_id\":\"h4\""));
    assert_non_null(strstr(log, "reload failed: keeping the 1 rules loaded before"));
    assert_non_null(strstr(log, "hup-rules.yaml:3:1: YAML:"));
    assert_non_null(strstr(log, "reloaded: 1 rules"));
    free(log);
    free(errp);
    free(text);
    free(app);
    free(cfg);
    free(rules);
    free(out);
    free(logs);
}

static void metrics_say_what_happened(void **state)
{
    (void)state;
    char *logs = in_tmp("m-logs"), *out = in_tmp("m-alerts.jsonl");
    mkdir(logs, 0700);
    /* A rule capped at 2 alerts a minute, beside the built-in pack. */
    char *capped = write_text(tmpdir, "capped.yaml",
                              "rules:\n"
                              "  - id: capped\n"
                              "    symptom: econnreset\n"
                              "    severity: error\n"
                              "    title: capped\n"
                              "    remediation: r\n"
                              "    when: {err.code: ECONNRESET}\n"
                              "    rate_limit: 2/1m\n"
                              "    examples: {match: ['{\"err\":{\"code\":\"ECONNRESET\"}}']}\n");
    char *dl = in_tmp("m-rejected.jsonl");
    char extra[2000];
    snprintf(extra, sizeof extra, "sinks: [file:%s]\nrules: [builtin, %s]\ndecode: {dead_letter: %s}\n",
             out, capped, dl);
    char *cfg = run_config("metrics", logs, extra);
    /* metrics on a free port instead of off */
    char *text = read_file(cfg, NULL);
    char *m = strstr(text, "metrics: off");
    memcpy(m, "metrics: :0 ", 12);
    free(write_text(tmpdir, "metrics.yaml", text));
    free(text);
    char *app = in_tmp("m-logs/app.log");
    FILE *fp = fopen(app, "a");
    for (int i = 0; i < 5; i++)
        write_workflow(fp, i);
    fprintf(fp, "not json at all\n");
    fclose(fp);
    pid_t pid = start_run(cfg, "metrics");
    int port = 0;
    char *errp = in_tmp("metrics.err");
    for (int k = 0; k < 100 && !port; k++) {
        sleep_ms(50);
        if (access(errp, R_OK) != 0)
            continue;
        char *log = read_file(errp, NULL);
        char *p = strstr(log, "(port ");
        if (p)
            port = atoi(p + 6);
        free(log);
    }
    assert_true(port > 0);
    char want[400];
    snprintf(want, sizeof want, "logloom_events_total{source=\"%s/*.log\"} 11\n", logs);
    char *r = NULL;
    for (int k = 0; k < 60 && !(r && strstr(r, want)); k++) {
        free(r);
        sleep_ms(50);
        r = http_get(port, "/metrics");
    }
    assert_non_null(strstr(r, " 200 OK\r\n"));
    if (!strstr(r, want))
        fail_msg("no '%s' in:\n%s", want, r);
    assert_non_null(strstr(r, "logloom_alerts_total{rule=\"capped\",symptom=\"econnreset\"} 2\n"));
    assert_non_null(strstr(r, "logloom_alerts_rate_limited_total 3\n"));
    assert_non_null(strstr(r, "logloom_alerts_total{rule=\"econnreset\",symptom=\"econnreset\"} 5\n"));
    assert_non_null(strstr(r, "logloom_rejected_lines_total{reason=\"not_json\"} 1\n"));
    assert_non_null(strstr(r, "logloom_dead_letter_written_total 1\n"));
    assert_non_null(strstr(r, "logloom_dead_letter_lost_total 0\n"));
    assert_non_null(strstr(r, "logloom_sink_queue_depth{sink=\"file file:"));
    assert_non_null(strstr(r, "# TYPE logloom_process_resident_memory_bytes gauge\n"));
    free(r);
    r = http_get(port, "/readyz");
    assert_non_null(strstr(r, " 200 OK\r\n"));
    free(r);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_logged("metrics", "rule capped reached its rate_limit of 2 alerts per 1m");
    free(capped);
    free(dl);
    free(errp);
    free(app);
    free(cfg);
    free(out);
    free(logs);
}

/* correlation.terminal ends a workflow at its terminal line, long before
 * its session gap (the daemon once parsed the option and ignored it). */
static void a_terminal_message_closes_its_workflow_at_once(void **state)
{
    (void)state;
    char *logs = in_tmp("t-logs"), *out = in_tmp("t-out.jsonl");
    mkdir(logs, 0700);
    char text[1600];
    snprintf(text, sizeof text,
             "sources:\n"
             "  - paths: [%s/*.log]\n"
             "correlation: {session_gap: 1h, idle_timeout: 1h, allowed_lateness: 100ms,\n"
             "              terminal: [\"workflow completed\"]}\n"
             "sinks: [{url: \"file:%s\", receive: timelines}]\n"
             "metrics: off\n"
             "log: {level: info, format: json}\n",
             logs, out);
    char *cfg = write_text(tmpdir, "terminal.yaml", text);
    char *app = in_tmp("t-logs/app.log");
    FILE *fp = fopen(app, "a");
    int64_t t = now_ms();
    for (int i = 0; i < 3; i++) {
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"correlationId\":"
                    "\"term-%d\",\"msg\":\"workflow created\"}\n",
                (long long)t, i);
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"correlationId\":"
                    "\"term-%d\",\"msg\":\"workflow completed\"}\n",
                (long long)t + 1, i);
    }
    /* A later line moves event time past the lateness allowed. */
    fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"msg\":\"tick\"}\n",
            (long long)t + 1000);
    fclose(fp);
    pid_t pid = start_run(cfg, "terminal");
    int closed = wait_count(out, "\"reason\":\"terminal\"", 3);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(closed, 3);
    free(app);
    free(cfg);
    free(out);
    free(logs);
}

/* Alerts hold the checkpoint at their first line for their suppress
 * window, so a restart reads every workflow again and makes its alert and
 * timeline again: the file sink holds each once all the same. */
static void a_restart_appends_nothing_twice_to_a_file_sink(void **state)
{
    (void)state;
    enum { N = 20 };
    char *logs, *app = app_log("fa", N, &logs), *out = in_tmp("fa-out.jsonl");
    char extra[800];
    snprintf(extra, sizeof extra, "sinks: [{url: \"file:%s\", receive: both}]\n", out);
    char *cfg = run_config("fa", logs, extra);
    pid_t pid = start_run(cfg, "fa1");
    assert_int_equal(wait_count(out, "{\"type\":\"timeline\"", N), N);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(wait_count(out, "{\"type\":\"alert\"", N), N);

    /* Again, and one more workflow: once its records are there, the rest
     * was read again before it. */
    pid = start_run(cfg, "fa2");
    FILE *fp = fopen(app, "a");
    write_workflow(fp, N);
    fclose(fp);
    int timelines = wait_count(out, "{\"type\":\"timeline\"", N + 1);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(timelines, N + 1);
    assert_int_equal(wait_count(out, "{\"type\":\"alert\"", N + 1), N + 1);
    char want[100];
    snprintf(want, sizeof want, "%d records were in the file already", 2 * N);
    assert_logged("fa2", want);
    free(app);
    free(cfg);
    free(out);
    free(logs);
}

/* Lines that are no events: each is logged with its file, byte offset and
 * reason (the first ten of a minute one by one, the rest summed up) and
 * kept whole in the dead-letter file, and reading goes on past them. A
 * dead-letter file that cannot be opened stops the start. */
static void rejected_lines_are_logged_and_kept_in_the_dead_letter_file(void **state)
{
    (void)state;
    char *logs = in_tmp("dl-logs"), *out = in_tmp("dl-alerts.jsonl");
    char *dl = in_tmp("dl-rejected.jsonl");
    mkdir(logs, 0700);
    char extra[1400];
    snprintf(extra, sizeof extra,
             "sinks: [file:%s]\ndecode: {dead_letter: %s, max_line_bytes: 1K}\n", out, dl);
    char *cfg = run_config("dl", logs, extra);
    char *app = in_tmp("dl-logs/app.log");
    FILE *fp = fopen(app, "a");
    write_workflow(fp, 0);
    enum { N = 18, LOGGED = 10 };
    long at[N];
    int n = 0;
    at[n++] = ftell(fp);
    fputs("not json\n", fp);
    at[n++] = ftell(fp);
    fputs("[1,2]\n", fp);
    at[n++] = ftell(fp);
    fputs("{\"msg\":\"\xff\xfe\"}\n", fp);
    at[n++] = ftell(fp);
    for (int i = 0; i < 3000; i++)
        fputc('x', fp);
    fputc('\n', fp);
    while (n < N) {
        at[n++] = ftell(fp);
        fprintf(fp, "garbage %d\n", n);
    }
    write_workflow(fp, 1);
    fclose(fp);
    pid_t pid = start_run(cfg, "dl");
    int alerts = wait_count(out, "\"type\":\"alert\"", 2);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(alerts, 2); /* the workflow after them too */
    /* Started again: the open alerts hold the checkpoint before the bad
     * lines, so they are read again, and not written twice. One more bad
     * line, written now, is read after them. */
    pid = start_run(cfg, "dl2");
    fp = fopen(app, "a");
    long again_at = ftell(fp);
    fputs("after the restart\n", fp);
    fclose(fp);
    assert_int_equal(wait_count(dl, "\"line\":\"after the restart\"}", 1), 1);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_logged("dl2", "records of lines read again were there already");

    static const char *const reason[] = {"not_json", "not_object", "invalid_utf8", "too_long"};
    char *log = run_log("dl"), *text = read_file(dl, NULL);
    char *rec = text;
    for (int i = 0; i < N; i++) {
        const char *why = i < 4 ? reason[i] : "not_json";
        char want[900];
        snprintf(want, sizeof want, "{\"reason\":\"%s\",\"source\":\"%s\",\"offset\":%ld,", why,
                 app, at[i]);
        char *end = strchr(rec, '\n');
        assert_non_null(end);
        *end = '\0';
        if (strncmp(rec, want, strlen(want)) != 0)
            fail_msg("record %d: want '%s...', got '%s'", i, want, rec);
        if (i == 2)
            assert_non_null(strstr(rec, ",\"line_base64\":\"eyJtc2ciOiL//iJ9\"}"));
        else if (i == 3)
            assert_non_null(strstr(rec, ",\"truncated\":true,\"length\":3000,\"line\":\"xxx"));
        rec = end + 1;
        if (i > 3) { /* "garbage N", N its number among the rejected */
            snprintf(want, sizeof want, ",\"line\":\"garbage %d\"}", i + 1);
            assert_string_equal(end - strlen(want), want);
        }
        snprintf(want, sizeof want, "%s at offset %ld: line rejected, %s: ", app, at[i], why);
        if ((strstr(log, want) != NULL) != (i < LOGGED))
            fail_msg("'%s' %s logged:\n%s", want, i < LOGGED ? "not" : "wrongly", log);
    }
    char want[900];
    snprintf(want, sizeof want, "{\"reason\":\"not_json\",\"source\":\"%s\",\"offset\":%ld,", app,
             again_at);
    assert_int_equal(strncmp(rec, want, strlen(want)), 0);
    assert_string_equal(strchr(rec, '\n'), "\n"); /* no more records */
    snprintf(want, sizeof want, "%d more lines rejected in ", N - LOGGED);
    assert_non_null(strstr(log, want));
    free(text);
    free(log);

    /* A dead-letter file that cannot be made (a file stands where its
     * directory would be): no start, and check says so too. A missing
     * directory is made. */
    free(write_text(tmpdir, "a-file", "x\n"));
    snprintf(extra, sizeof extra, "decode: {dead_letter: %s/a-file/x.jsonl}\n", tmpdir);
    free(cfg);
    cfg = run_config("dl-bad", logs, extra);
    snprintf(want, sizeof want, "decode.dead_letter %s/a-file/x.jsonl: %s", tmpdir,
             strerror(ENOTDIR));
    for (int c = 0; c < 2; c++) {
        const char *run[] = {c ? "check" : "run", "-c", cfg, NULL};
        struct run_result r = run_args(logloom, tmpdir, run);
        assert_int_not_equal(r.status, 0);
        if (!strstr(r.err, want))
            fail_msg("no '%s' in:\n%s", want, r.err);
        run_result_free(&r);
    }
    free(app);
    free(cfg);
    free(dl);
    free(out);
    free(logs);
}

/* Past dead_letter_max_bytes the file becomes FILE.1 and a new one starts:
 * whole records in both, at most the cap in each, the newest kept. */
static void the_dead_letter_file_is_capped_keeping_the_newest(void **state)
{
    (void)state;
    enum { N = 40, CAP = 1024 };
    char *logs = in_tmp("cap-logs"), *dl = in_tmp("cap-rejected.jsonl");
    mkdir(logs, 0700);
    char extra[1400];
    snprintf(extra, sizeof extra, "decode: {dead_letter: %s, dead_letter_max_bytes: %d}\n", dl,
             CAP);
    char *cfg = run_config("cap", logs, extra);
    char *app = in_tmp("cap-logs/app.log");
    FILE *fp = fopen(app, "a");
    for (int i = 0; i < N; i++)
        fprintf(fp, "garbage %02d\n", i);
    fclose(fp);
    pid_t pid = start_run(cfg, "cap");
    char last[64];
    snprintf(last, sizeof last, "\"line\":\"garbage %02d\"}\n", N - 1);
    assert_int_equal(wait_count(dl, last, 1), 1);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    char old[700];
    snprintf(old, sizeof old, "%s.1", dl);
    size_t n_new, n_old;
    char *now = read_file(dl, &n_new), *before = read_file(old, &n_old);
    assert_non_null(before);
    assert_true(n_new > 0 && n_new <= CAP && now[n_new - 1] == '\n');
    assert_true(n_old > CAP / 2 && n_old <= CAP && before[n_old - 1] == '\n');
    static const char rec[] = "{\"reason\":"; /* each starts on a record */
    assert_int_equal(strncmp(now, rec, strlen(rec)), 0);
    assert_int_equal(strncmp(before, rec, strlen(rec)), 0);
    /* The newest records, in order, with none left out between the files. */
    int want = -1, seen = 0;
    for (char *text = before; text; text = text == before ? now : NULL)
        for (char *p = text; (p = strstr(p, "\"line\":\"garbage ")); p++, seen++) {
            int k = atoi(p + strlen("\"line\":\"garbage "));
            if (want >= 0 && k != want)
                fail_msg("record of line %d where %d was due", k, want);
            want = k + 1;
        }
    assert_int_equal(want, N);
    assert_true(seen < N); /* the oldest are gone */
    free(now);
    free(before);
    free(app);
    free(cfg);
    free(dl);
    free(logs);
}

static void configuration_problems_name_their_places(void **state)
{
    (void)state;
    char *cfg = write_text(tmpdir, "bad-run.yaml",
                           "sources:\n"
                           "  - paths: [/var/log/x/*.log]\n"
                           "    start_at: middle\n"
                           "    formt: cri\n"
                           "    watch: fanotify\n"
                           "correlation:\n"
                           "  session_gap: soon\n"
                           "checkpoint: {dir: /tmp}\n"
                           "sinks:\n"
                           "  - url: file:x.jsonl\n"
                           "    batch: 0\n");
    const char *args[] = {"check", "-c", cfg, NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 1);
    const char *want[] = {
        ":3:15: error: start_at: 'middle' is not head or tail",
        ":4:12: error: unknown source option 'formt' (did you mean 'format'?)",
        ":5:12: error: watch: 'fanotify' is not inotify or poll",
        ":7:16: error: session_gap: 'soon' is not a duration",
        ":8:1: error: unknown key 'checkpoint' (did you mean 'checkpoints'?)",
        ":11:12: error: sink option batch: '0' is not a count",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(r.err, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], r.err);
    run_result_free(&r);
    /* run refuses it the same way, before doing anything. */
    const char *run[] = {"run", "-c", cfg, NULL};
    r = run_args(logloom, tmpdir, run);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "start_at: 'middle'"));
    run_result_free(&r);
    free(cfg);
}

/* Issue 19: `check` refuses what `run` could not start with, saying why:
 * a checkpoint directory that cannot be written or made, a metrics address
 * taken; a source directory that does not exist yet is only a warning. */
static void check_catches_what_run_refuses_at_start(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 1), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    free(write_text(tmpdir, "in-the-way", "x\n"));
    char text[2048];
    snprintf(text, sizeof text,
             "sources: [{paths: [%s/not-yet/*.log]}]\n"
             "checkpoints: {dir: %s/in-the-way/ckpt}\n"
             "metrics: 127.0.0.1:%d\n",
             tmpdir, tmpdir, ntohs(a.sin_port));
    char *cfg = write_text(tmpdir, "refused.yaml", text);
    char ck[1200], missing[1200];
    snprintf(ck, sizeof ck, "checkpoints.dir %s/in-the-way/ckpt: %s/in-the-way is not a directory",
             tmpdir, tmpdir);
    snprintf(missing, sizeof missing, "%s/not-yet/*.log: no such directory (yet)", tmpdir);
    const char *check[] = {"check", "-c", cfg, NULL};
    struct run_result r = run_args(logloom, tmpdir, check);
    assert_int_equal(r.status, 1);
    const char *want[] = {ck, "Address already in use", missing};
    for (size_t i = 0; i < 3; i++)
        if (!strstr(r.err, want[i]))
            fail_msg("no '%s' in:\n%s", want[i], r.err);
    run_result_free(&r);
    const char *run[] = {"run", "-c", cfg, NULL};
    r = run_args(logloom, tmpdir, run);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.err, "is not a directory"));
    run_result_free(&r);
    free(cfg);
    /* Nothing wrong but a directory that is not there yet: fine, said. */
    close(s);
    snprintf(text, sizeof text,
             "sources: [{paths: [%s/not-yet/*.log]}]\ncheckpoints: {dir: %s/to-be/ckpt}\n"
             "metrics: off\n",
             tmpdir, tmpdir);
    cfg = write_text(tmpdir, "fine.yaml", text);
    const char *fine[] = {"check", "-c", cfg, NULL};
    r = run_args(logloom, tmpdir, fine);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, missing));
    assert_non_null(strstr(r.out, "configuration fine"));
    run_result_free(&r);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_crash_mid_stream_loses_and_repeats_no_alert),
        cmocka_unit_test(overlapping_workflows_straddle_the_checkpoint_and_come_once),
        cmocka_unit_test(sigterm_drains_checkpoints_and_exits_0),
        cmocka_unit_test(the_checkpoint_of_a_single_busy_file_moves_on),
        cmocka_unit_test(sighup_with_a_broken_rule_file_keeps_the_old_rules),
        cmocka_unit_test(metrics_say_what_happened),
        cmocka_unit_test(a_terminal_message_closes_its_workflow_at_once),
        cmocka_unit_test(a_restart_appends_nothing_twice_to_a_file_sink),
        cmocka_unit_test(rejected_lines_are_logged_and_kept_in_the_dead_letter_file),
        cmocka_unit_test(the_dead_letter_file_is_capped_keeping_the_newest),
        cmocka_unit_test(configuration_problems_name_their_places),
        cmocka_unit_test(check_catches_what_run_refuses_at_start),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
