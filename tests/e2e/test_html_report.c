/* `logloom replay --html`: the report on the example incident is one
 * self-contained file, and a real browser (headless Chromium) runs its script
 * without errors and draws the workflow table and the swimlanes.
 *
 * Chromium is required, not optional: CI installs it (.ci/setup), and a
 * missing browser fails the test with a message instead of skipping it. */
#include "../testutil.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

#define CHROMIUM "/usr/bin/chromium"

static char logloom[1024];
static char tmpdir[512];
static char html_path[600];
static char *jsonl; /* logloom's stdout: the same run as JSON lines */
static char *html;  /* the report */

/* Runs argv[0] with stdout and stderr to files in tmpdir; returns the exit
 * status and the outputs (caller frees). */
static int run(const char *const *argv, char **out, char **err)
{
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmpdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("cannot run %s: %s", argv[0], strerror(rc));
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    *out = read_file(out_path, NULL);
    *err = read_file(err_path, NULL);
    return WEXITSTATUS(st);
}

static int group_setup(void **state)
{
    (void)state;
    const char *src = getenv("LL_SOURCE_DIR"), *bin = getenv("LL_BINARY_DIR");
    assert_non_null(src);
    assert_non_null(bin);
    assert_int_equal(chdir(src), 0);
    snprintf(logloom, sizeof logloom, "%s/logloom", bin);
    char *t = make_tmpdir();
    snprintf(tmpdir, sizeof tmpdir, "%s", t);
    free(t);
    snprintf(html_path, sizeof html_path, "%s/report.html", tmpdir);
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", "--html", html_path,
                          "--terminal", "workflow finished", "--terminal", "workflow failed",
                          "examples/incident", NULL};
    char *err;
    int status = run(argv, &jsonl, &err);
    if (status != 0)
        fail_msg("logloom exited %d: %s", status, err);
    free(err);
    html = read_file(html_path, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(jsonl);
    free(html);
    rm_tree(tmpdir);
    return 0;
}

static void require_chromium(void)
{
    if (access(CHROMIUM, X_OK) != 0)
        fail_msg("%s not found: the HTML report test needs Chromium "
                 "(apt-get install chromium; .ci/setup installs it)",
                 CHROMIUM);
}

/* Loads @p path in headless Chromium, lets its scripts run, and returns the
 * DOM as serialised after them (caller frees); OUT: err, Chromium's log. */
static char *chromium_dump_dom(const char *path, char **err)
{
    require_chromium();
    char profile[600], url[700], udd[700];
    snprintf(profile, sizeof profile, "%s/profile-XXXXXX", tmpdir);
    assert_non_null(mkdtemp(profile));
    snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
    snprintf(url, sizeof url, "file://%s", path);
    const char *argv[] = {CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-dev-shm-usage", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", udd, "--virtual-time-budget=5000",
                          "--enable-logging=stderr", "--v=0", "--dump-dom", url, NULL};
    char *dom;
    int status = run(argv, &dom, err);
    if (status != 0)
        fail_msg("chromium exited %d: %s", status, *err);
    return dom;
}

/* Chromium logs each console message and uncaught exception of a page on
 * stderr, e.g.
 *   [10641:10641:1127/220000.746735:INFO:CONSOLE:6] "Uncaught TypeError: ...",
 *   source: file:///.../report.html (6)
 * ("CONSOLE(6)" in older versions), all at INFO whatever the console level.
 * The report logs nothing, so any such line is a failure.
 * @returns a copy of the first such line, or NULL (caller frees). */
static char *page_console_line(const char *err)
{
    for (const char *line = err; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = strndup(line, len);
        if (strstr(l, ":CONSOLE") || strstr(l, "Uncaught"))
            return l;
        free(l);
        line += len + (end != NULL);
    }
    return NULL;
}

static void assert_no_console_output(const char *err)
{
    char *l = page_console_line(err);
    if (l)
        fail_msg("the page logged to the console: %s", l);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The JSON lines record of the timeline with this correlation id. */
static char *timeline_record(const char *corr_id)
{
    char key[200];
    snprintf(key, sizeof key, "\"correlation_id\":\"%s\"", corr_id);
    const char *p = strstr(jsonl, key);
    assert_non_null(p);
    while (p > jsonl && p[-1] != '\n')
        p--;
    return strndup(p, strcspn(p, "\n"));
}

static void report_is_one_self_contained_file(void **state)
{
    (void)state;
    assert_int_equal(strncmp(html, "<!doctype html>", 15), 0);
    const char *open = "<script type=\"application/json\" id=\"ll-data\">";
    char *data = strstr(html, open);
    assert_non_null(data);
    data += strlen(open);
    char *data_end = strstr(data, "</script>");
    assert_non_null(data_end);
    /* The data is inert: log text cannot start a tag, a comment or end the
     * element, since every '<' in it is escaped. */
    assert_null(memchr(data, '<', (size_t)(data_end - data)));
    /* The rest (markup, CSS, script) loads nothing from anywhere. Log lines
     * in the data may well hold URLs; they are only ever shown as text. */
    char *page = strndup(html, (size_t)(data - html));
    char *rest = strdup(data_end);
    const char *banned[] = {"http://", "https://", "src=", "<link", "url(", "@import",
                            "fetch(", "XMLHttpRequest"};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strstr(page, banned[i]) || strstr(rest, banned[i]))
            fail_msg("the page refers to something outside it: '%s'", banned[i]);
    assert_non_null(strstr(page, "Content-Security-Policy"));
    assert_non_null(strstr(page, "content=\"default-src 'none';"));
    free(page);
    free(rest);
}

static void report_has_every_workflow_and_raw_lines(void **state)
{
    (void)state;
    size_t n = 0;
    const char *key = "\"correlation_id\":\"";
    for (const char *p = jsonl; (p = strstr(p, key)); n++) {
        p += strlen(key);
        char *id = strndup(p, strcspn(p, "\""));
        if (!strstr(html, id))
            fail_msg("correlation id %s is not in the report", id);
        free(id);
    }
    assert_true(n >= 10); /* the incident has 14 workflows */
    /* Raw lines are kept: the host name is in no field of the JSON records. */
    assert_null(strstr(jsonl, "orch-agent-01"));
    assert_non_null(strstr(html, "orch-agent-01"));
}

static void chromium_draws_table_and_swimlanes_without_errors(void **state)
{
    (void)state;
    char *err;
    char *dom = chromium_dump_dom(html_path, &err);
    assert_no_console_output(err);
    /* The script ran to its end: one row per workflow of the run. */
    size_t n = count(jsonl, "{\"type\":\"timeline\"");
    char ready[64];
    snprintf(ready, sizeof ready, "data-ll-ready=\"%zu\"", n);
    if (!strstr(dom, ready))
        fail_msg("no %s in the DOM: the script did not finish", ready);
    assert_int_equal(count(dom, "<tr data-ll-row=\""), n);
    /* The first failed workflow is selected, with a lane per service. */
    const char *sel = strstr(dom, "data-ll-selected=\"");
    assert_non_null(sel);
    sel += strlen("data-ll-selected=\"");
    char *id = strndup(sel, strcspn(sel, "\""));
    char *rec = timeline_record(id);
    assert_non_null(strstr(rec, "\"status\":\"failed\""));
    const char *svc = strstr(rec, "\"services\":[");
    assert_non_null(svc);
    svc += strlen("\"services\":[");
    char *services = strndup(svc, strcspn(svc, "]")); /* "a","b": two quotes each */
    assert_int_equal(count(dom, "data-ll-lane=\""), count(services, "\"") / 2);
    /* Event marks, its errors in red. */
    assert_true(count(dom, "class=\"mark error") >= 1);
    assert_true(count(dom, "data-ll-level=\"error\"") >= 1);
    free(services);
    free(rec);
    free(id);
    free(dom);
    free(err);
}

/* Writes a copy of the report with @p script appended to its body. */
static char *report_with_script(const char *name, const char *script)
{
    char *at = strstr(html, "</body>");
    assert_non_null(at);
    size_t head = (size_t)(at - html);
    char *s = malloc(strlen(html) + strlen(script) + 1);
    memcpy(s, html, head);
    strcpy(s + head, script);
    strcat(s, at);
    char *path = write_text(tmpdir, name, s);
    free(s);
    return path;
}

static void hovering_an_event_shows_its_raw_line(void **state)
{
    (void)state;
    char *path = report_with_script(
        "hover.html",
        "<script>const m = document.querySelector('.lanes .mark.error');\n"
        "const r = m.getBoundingClientRect();\n"
        "m.dispatchEvent(new MouseEvent('mousemove', {bubbles: true,\n"
        "  clientX: r.left + 2, clientY: r.top + 2}));</script>\n");
    char *err;
    char *dom = chromium_dump_dom(path, &err);
    assert_no_console_output(err);
    const char *tip = strstr(dom, "<div id=\"ll-tip\"");
    assert_non_null(tip);
    assert_non_null(strstr(tip, "display: block"));
    /* The raw JSON line, as text: its quotes are not markup. */
    assert_non_null(strstr(tip, "<pre class=\"raw\">{\"level\":"));
    free(dom);
    free(err);
    free(path);
}

/* Log text is shown as text: markup in a message, a service name or a
 * correlation id neither ends the data element nor becomes an element. */
static void log_text_cannot_inject_markup(void **state)
{
    (void)state;
    const char *evil =
        "{\"level\":\"info\",\"time\":\"2026-11-24T09:00:00.000Z\",\"service\":\"api\","
        "\"requestId\":\"<img src=x onerror=document.body.setAttribute('data-pwned','1')>\","
        "\"msg\":\"start\"}\n"
        "{\"level\":\"error\",\"time\":\"2026-11-24T09:00:01.000Z\",\"service\":\"<b>api\","
        "\"requestId\":\"<img src=x onerror=document.body.setAttribute('data-pwned','1')>\","
        "\"msg\":\"</script><script>document.body.setAttribute('data-pwned','2')</script>"
        "<!--<script>\"}\n";
    char *log = write_text(tmpdir, "evil.log", evil);
    char out[600];
    snprintf(out, sizeof out, "%s/evil.html", tmpdir);
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", "--html", out, log,
                          NULL};
    char *stdout_text, *err;
    assert_int_equal(run(argv, &stdout_text, &err), 0);
    free(err);
    char *page = read_file(out, NULL);
    assert_int_equal(count(page, "</script>"), 2); /* the data's end and the script's */
    char *dom = chromium_dump_dom(out, &err);
    assert_no_console_output(err);
    assert_non_null(strstr(dom, "data-ll-ready=\"1\""));
    assert_null(strstr(dom, "data-pwned=\""));
    assert_null(strstr(dom, "<img"));
    assert_null(strstr(dom, "<b>api"));
    assert_non_null(strstr(dom, "&lt;img src=x onerror="));
    assert_non_null(strstr(dom, "&lt;b&gt;api"));
    free(dom);
    free(err);
    free(page);
    free(stdout_text);
    free(log);
}

/* The console check above must not pass because Chromium changed how it
 * logs: a page that throws has to be caught by it. */
static void console_check_catches_a_page_that_throws(void **state)
{
    (void)state;
    char *path = write_text(tmpdir, "broken.html",
                            "<!doctype html><title>canary</title>\n"
                            "<script>null.canary_property;</script>\n");
    char *err;
    char *dom = chromium_dump_dom(path, &err);
    char *l = page_console_line(err);
    if (!l)
        fail_msg("an uncaught exception was not seen in Chromium's log:\n%s", err);
    assert_non_null(strstr(l, "canary_property"));
    free(l);
    free(dom);
    free(err);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_is_one_self_contained_file),
        cmocka_unit_test(report_has_every_workflow_and_raw_lines),
        cmocka_unit_test(chromium_draws_table_and_swimlanes_without_errors),
        cmocka_unit_test(hovering_an_event_shows_its_raw_line),
        cmocka_unit_test(log_text_cannot_inject_markup),
        cmocka_unit_test(console_check_catches_a_page_that_throws),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
