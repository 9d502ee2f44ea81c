/* `logloom replay --html`: the report on the example incident is one
 * self-contained file, and a real browser (headless Chromium) runs its script
 * without errors and draws the workflow table, the swimlanes and the alerts.
 * The run loads a rule file of its own (--rules replaces the built-in pack),
 * so the alerts it raises do not depend on the pack.
 *
 * Chromium is required, not optional: CI installs it (.ci/setup), and a
 * missing browser fails the test with a message instead of skipping it. */
#define LL_E2E
#include "../testutil.h"

#define CHROMIUM "/usr/bin/chromium"

static char html_path[600];
static char *jsonl; /* logloom's stdout: the same run as JSON lines */
static char *html;  /* the report */

/* One rule: agent-2's "spawn EINVAL" line in the incident matches it. */
static const char spawn_rule[] =
    "rules:\n"
    "  - id: test-spawn\n"
    "    symptom: spawn-einval\n"
    "    severity: error\n"
    "    title: spawn rejected its arguments\n"
    "    summary: \"{service}: {msg}\"\n"
    "    remediation: Log the command and arguments.\n"
    "    when: {err.code: EINVAL}\n"
    "    examples: {match: ['{\"level\":50,\"err\":{\"code\":\"EINVAL\"}}']}\n";

static int run(const char *const *argv, char **out, char **err)
{
    return run_cmd(argv, tmpdir, out, err);
}

static int group_setup(void **state)
{
    (void)state;
    e2e_group_setup(state);
    snprintf(html_path, sizeof html_path, "%s/report.html", tmpdir);
    char *rules = write_text(tmpdir, "rules.yaml", spawn_rule);
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", "--html", html_path,
                          "--terminal", "workflow finished", "--terminal", "workflow failed",
                          "--rules", rules, "examples/incident", NULL};
    char *err;
    int status = run(argv, &jsonl, &err);
    if (status != 0)
        fail_msg("logloom exited %d: %s", status, err);
    free(err);
    free(rules);
    html = read_file(html_path, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(jsonl);
    free(html);
    e2e_group_teardown(state);
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

/* The JSON lines record of the timeline with this correlation id. */
static char *timeline_record(const char *corr_id)
{
    char key[200];
    snprintf(key, sizeof key, "\"correlation_id\":\"%s\"", corr_id);
    for (const char *p = jsonl; (p = strstr(p, key)); p += strlen(key)) {
        const char *line = p;
        while (line > jsonl && line[-1] != '\n')
            line--;
        const char *type = "{\"type\":\"timeline\"";
        if (strncmp(line, type, strlen(type)) == 0)
            return strndup(line, strcspn(line, "\n"));
    }
    fail_msg("no timeline record for %s", corr_id);
    return NULL;
}

/* A copy of the string field @p name of the JSON record at @p rec, which
 * must have it and hold no escapes in it (caller frees). */
static char *field(const char *rec, const char *name)
{
    char key[100];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(rec, key);
    assert_non_null(p);
    p += strlen(key);
    return strndup(p, strcspn(p, "\""));
}

/* The JSON lines records of the run that are not alerts: alerts cite raw
 * lines as their evidence (caller frees). */
static char *records_but_alerts(void)
{
    char *out = calloc(1, strlen(jsonl) + 1);
    for (const char *p = jsonl; *p;) {
        size_t len = strcspn(p, "\n");
        const char *type = "{\"type\":\"alert\"";
        if (strncmp(p, type, strlen(type)) != 0)
            strncat(out, p, len + (p[len] == '\n'));
        p += len + (p[len] == '\n');
    }
    return out;
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
    /* Issue 19: the policy runs only the page's own style and script, by
     * their hashes (a browser computes them: the tests below would see
     * nothing drawn were one wrong), never whatever is inline. */
    assert_null(strstr(page, "unsafe-inline"));
    assert_non_null(strstr(page, "style-src 'sha256-"));
    assert_non_null(strstr(page, "script-src 'sha256-"));
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
    /* Raw lines are kept: the host name is in no field of the JSON records
     * (only an alert's evidence may cite a raw line). */
    char *records = records_but_alerts();
    assert_null(strstr(records, "orch-agent-01"));
    assert_non_null(strstr(html, "orch-agent-01"));
    free(records);
}

static void chromium_draws_table_and_swimlanes_without_errors(void **state)
{
    (void)state;
    char *err;
    char *dom = chromium_dump_dom(html_path, &err);
    assert_no_console_output(err);
    /* The script ran to its end: one row per workflow of the run. */
    size_t n = count_in(jsonl, "{\"type\":\"timeline\"");
    char ready[64];
    snprintf(ready, sizeof ready, "data-ll-ready=\"%zu\"", n);
    if (!strstr(dom, ready))
        fail_msg("no %s in the DOM: the script did not finish", ready);
    assert_int_equal(count_in(dom, "<tr data-ll-row=\""), n);
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
    assert_int_equal(count_in(dom, "data-ll-lane=\""), count_in(services, "\"") / 2);
    /* Event marks, its errors in red. */
    assert_true(count_in(dom, "class=\"mark error") >= 1);
    assert_true(count_in(dom, "data-ll-level=\"error\"") >= 1);
    free(services);
    free(rec);
    free(id);
    free(dom);
    free(err);
}

/* Writes a copy of @p page with @p script inserted before the first @p where
 * in it. */
static char *page_with_script_at(const char *page, const char *name, const char *where,
                                 const char *script)
{
    /* The page runs only the script its policy names by hash: the test's
     * own scripts get a nonce the copy's policy lets run too. */
    const char *at = strstr(page, where), *csp = strstr(page, "script-src ");
    assert_non_null(at);
    assert_true(csp && csp < at);
    static const char nonce[] = "'nonce-lltest' ", tag[] = "<script nonce=\"lltest\">";
    size_t n = strlen(page) + strlen(nonce) + strlen(script) * 2 + 1;
    char *s = malloc(n), *o = s;
    size_t to_csp = (size_t)(csp - page) + strlen("script-src ");
    memcpy(o, page, to_csp);
    o += to_csp;
    o += sprintf(o, "%s", nonce);
    memcpy(o, page + to_csp, (size_t)(at - page) - to_csp);
    o += (size_t)(at - page) - to_csp;
    for (const char *p = script; *p;) {
        if (strncmp(p, "<script>", 8) == 0) {
            o += sprintf(o, "%s", tag);
            p += 8;
        } else {
            *o++ = *p++;
        }
    }
    strcpy(o, at);
    char *path = write_text(tmpdir, name, s);
    free(s);
    return path;
}

/* Writes a copy of @p page with @p script appended to its body. */
static char *page_with_script(const char *page, const char *name, const char *script)
{
    return page_with_script_at(page, name, "</body>", script);
}

/* Writes a copy of the report with @p script appended to its body. */
static char *report_with_script(const char *name, const char *script)
{
    return page_with_script(html, name, script);
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

/* The first alert record of the run (caller frees). */
static char *first_alert_record(void)
{
    const char *p = strstr(jsonl, "{\"type\":\"alert\"");
    assert_non_null(p);
    return strndup(p, strcspn(p, "\n"));
}

static void alerts_panel_has_a_row_per_alert(void **state)
{
    (void)state;
    size_t n = count_in(jsonl, "{\"type\":\"alert\"");
    assert_true(n >= 1); /* agent-2's spawn EINVAL */
    char *err;
    char *dom = chromium_dump_dom(html_path, &err);
    assert_no_console_output(err);
    /* The panel is shown, with one row per alert record, each by its id. */
    assert_non_null(strstr(dom, "id=\"ll-alerts\""));
    assert_null(strstr(dom, "id=\"ll-alerts\" hidden"));
    assert_int_equal(count_in(dom, "data-ll-alert=\""), n);
    const char *key = "{\"type\":\"alert\",\"id\":\"";
    for (const char *p = jsonl; (p = strstr(p, key)); p += strlen(key)) {
        char *id = strndup(p + strlen(key), 16);
        char attr[64];
        snprintf(attr, sizeof attr, "data-ll-alert=\"%s\"", id);
        if (!strstr(dom, attr))
            fail_msg("alert %s has no row in the panel", id);
        free(id);
    }
    /* A row shows the alert's title, symptom, summary and count. */
    const char *row = strstr(dom, "data-ll-alert=\"");
    const char *row_end = strstr(row, "</tr>");
    assert_non_null(row_end);
    char *r = strndup(row, (size_t)(row_end - row));
    assert_non_null(strstr(r, "spawn rejected its arguments"));
    assert_non_null(strstr(r, "spawn-einval"));
    assert_non_null(strstr(r, "agent-2: spawn EINVAL"));
    assert_non_null(strstr(r, "\xc3\x97" "1")); /* x1 */
    /* The header counts the alerts in red; the workflow table has a column. */
    char total[120];
    snprintf(total, sizeof total, "class=\"total bad\" data-ll-total=\"alerts\"><b>%zu</b>", n);
    if (!strstr(dom, total))
        fail_msg("no '%s' in the header", total);
    assert_non_null(strstr(dom, "data-ll-col=\"n_alerts\""));
    free(r);
    free(dom);
    free(err);
}

/* The alert's workflow, opened through its link: the alerts box names the
 * alert by title and symptom, and the line it cites is marked on the lanes,
 * with the symptom in the tooltip. */
static void a_workflow_shows_its_alerts_and_their_evidence(void **state)
{
    (void)state;
    char *rec = first_alert_record();
    char *corr = field(rec, "correlation_id"), *id = field(rec, "id");
    char *path = report_with_script(
        "alerted.html",
        "<script>const m = document.querySelector('.lanes .mark.alerted');\n"
        "const r = m.getBoundingClientRect();\n"
        "m.dispatchEvent(new MouseEvent('mousemove', {bubbles: true,\n"
        "  clientX: r.left + 2, clientY: r.top + 2}));</script>\n");
    char url[800];
    snprintf(url, sizeof url, "%s#%s", path, corr);
    char *err;
    char *dom = chromium_dump_dom(url, &err);
    assert_no_console_output(err);
    char sel[200];
    snprintf(sel, sizeof sel, "data-ll-selected=\"%s\"", corr);
    assert_non_null(strstr(dom, sel));
    const char *box = strstr(dom, "data-ll-alerts=\"1\"");
    assert_non_null(box);
    const char *box_end = strstr(box, "class=\"hops\"");
    assert_non_null(box_end);
    char *b = strndup(box, (size_t)(box_end - box));
    assert_non_null(strstr(b, "spawn rejected its arguments"));
    assert_non_null(strstr(b, "spawn-einval"));
    char ref[64];
    snprintf(ref, sizeof ref, "data-ll-alert-ref=\"%s\"", id);
    assert_non_null(strstr(b, ref));
    /* One mark for the one line of evidence; it also matched a rule step. */
    assert_int_equal(count_in(dom, "data-ll-alert-mark=\"spawn-einval\""), 1);
    assert_non_null(strstr(dom, "alerted matched"));
    const char *tip = strstr(dom, "<div id=\"ll-tip\"");
    assert_non_null(tip);
    assert_non_null(strstr(tip, "display: block"));
    assert_non_null(strstr(tip, "alert: spawn-einval"));
    free(b);
    free(dom);
    free(err);
    free(path);
    free(id);
    free(corr);
    free(rec);
}

static void clicking_an_alert_shows_its_evidence_and_remediation(void **state)
{
    (void)state;
    char *path = report_with_script(
        "opened.html", "<script>document.querySelector('tr[data-ll-alert]').click();</script>\n");
    char *err;
    char *dom = chromium_dump_dom(path, &err);
    assert_no_console_output(err);
    assert_non_null(strstr(dom, "aria-expanded=\"true\""));
    /* source:offset and the raw line of each piece of evidence, as text. */
    char *rec = first_alert_record();
    char *source = field(rec, "source");
    const char *off = strstr(rec, "\"offset\":");
    assert_non_null(off);
    char pos[700];
    snprintf(pos, sizeof pos, "data-ll-evidence=\"%s:%llu\"", source,
             strtoull(off + strlen("\"offset\":"), NULL, 10));
    if (!strstr(dom, pos))
        fail_msg("no %s in the opened alert", pos);
    assert_non_null(strstr(dom, "<pre class=\"raw\">{\"code\":\"EINVAL\""));
    assert_non_null(strstr(dom, "<p class=\"remedy\">Log the command and arguments.</p>"));
    free(source);
    free(rec);
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
    assert_int_equal(count_in(page, "</script>"), 2); /* the data's end and the script's */
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

/* An alert's summary and evidence come from log text: markup in them is shown
 * as text in the panel, when the alert is opened, and in the tooltip. */
static void alert_text_cannot_inject_markup(void **state)
{
    (void)state;
    const char *evil =
        "{\"level\":\"info\",\"time\":\"2026-11-24T09:00:00.000Z\",\"service\":\"api\","
        "\"requestId\":\"r-1\",\"msg\":\"start\"}\n"
        "{\"level\":\"error\",\"time\":\"2026-11-24T09:00:01.000Z\",\"service\":\"api\","
        "\"requestId\":\"r-1\",\"msg\":\"</script><img src=x onerror=alert(1)>\","
        "\"err\":{\"code\":\"EINVAL\",\"message\":\"</script><img src=x onerror=alert(1)>\"}}\n";
    char *log = write_text(tmpdir, "evil-alert.log", evil);
    char *rules = write_text(tmpdir, "evil-rules.yaml", spawn_rule);
    char out[600];
    snprintf(out, sizeof out, "%s/evil-alert.html", tmpdir);
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", "--rules", rules,
                          "--html", out, log, NULL};
    char *stdout_text, *err;
    assert_int_equal(run(argv, &stdout_text, &err), 0);
    free(err);
    assert_int_equal(count_in(stdout_text, "{\"type\":\"alert\""), 1);
    char *page = read_file(out, NULL);
    assert_int_equal(count_in(page, "</script>"), 2); /* the data's end and the script's */
    /* Should the markup run, alert() must flag it rather than block the page
     * (and the test) on a dialog. */
    char *trapped = page_with_script_at(
        page, "evil-alert-trap.html", "<title>",
        "<script>window.alert = () => document.documentElement.setAttribute("
        "'data-pwned', '1');</script>\n");
    free(page);
    page = read_file(trapped, NULL);
    /* Open the alert and hover its mark, so that every place that shows
     * the text is drawn. */
    char *path = page_with_script(
        page, "evil-alert-open.html",
        "<script>document.querySelector('tr[data-ll-alert]').click();\n"
        "const m = document.querySelector('.lanes .mark.alerted');\n"
        "const r = m.getBoundingClientRect();\n"
        "m.dispatchEvent(new MouseEvent('mousemove', {bubbles: true,\n"
        "  clientX: r.left + 2, clientY: r.top + 2}));</script>\n");
    char *dom = chromium_dump_dom(path, &err);
    assert_no_console_output(err);
    assert_non_null(strstr(dom, "data-ll-ready=\"1\""));
    assert_int_equal(count_in(dom, "data-ll-alert=\""), 1);
    assert_null(strstr(dom, "data-pwned=\""));
    assert_null(strstr(dom, "<img"));
    const char *text = "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;";
    char summary[200];
    snprintf(summary, sizeof summary, "<div class=\"summary\">api: %s</div>", text);
    if (!strstr(dom, summary))
        fail_msg("no '%s' in the panel", summary);
    const char *evidence = strstr(dom, "class=\"evidence\"");
    assert_non_null(evidence);
    const char *pre = strstr(evidence, "<pre class=\"raw\">");
    assert_non_null(pre);
    assert_non_null(strstr(pre, text));
    const char *tip = strstr(dom, "<div id=\"ll-tip\"");
    assert_non_null(tip);
    assert_non_null(strstr(tip, "alert: spawn-einval"));
    assert_non_null(strstr(tip, text));
    free(dom);
    free(err);
    free(path);
    free(trapped);
    free(page);
    free(stdout_text);
    free(rules);
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
        cmocka_unit_test(alerts_panel_has_a_row_per_alert),
        cmocka_unit_test(a_workflow_shows_its_alerts_and_their_evidence),
        cmocka_unit_test(clicking_an_alert_shows_its_evidence_and_remediation),
        cmocka_unit_test(log_text_cannot_inject_markup),
        cmocka_unit_test(alert_text_cannot_inject_markup),
        cmocka_unit_test(console_check_catches_a_page_that_throws),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
