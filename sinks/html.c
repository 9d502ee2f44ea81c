/* The HTML report: one self-contained page per run, for post-mortems.
 *
 * Timelines, alerts and late events are copied as JSON records (the JSON
 * lines contract, plus the raw lines the correlator kept) into one buffer; at
 * the end of the run the page is written around them: inline CSS, the records
 * in a <script type="application/json"> element, and a small script that
 * draws the page from them. No external assets and no network: a
 * Content-Security-Policy forbids loading anything and runs only the style
 * and the script whose SHA-256 it names (computed at build time,
 * cmake/embed.cmake), so the file works offline and log text, which is
 * untrusted, can neither fetch nor run anything, even were it to escape its
 * element. The script builds the DOM with textContent only.
 *
 * The page itself lives in report/ (report.html, report.css, report.js) and
 * is compiled in (cmake/embed.cmake); this file only fills the skeleton's
 * markers. */
#include "sink_int.h"

#include "report_assets.h" /* generated: the files under report/ */

#include <assert.h>
#include <string.h>

/* Records kept once this much data is held are counted instead: a browser
 * cannot show more, and memory stays bounded on long replays. */
#define HTML_MAX_DATA ((size_t)64 << 20)

struct html {
    struct ll_buf data;         /* JSON records, each followed by ",\n" */
    uint64_t omitted_timelines; /* records not kept: over HTML_MAX_DATA */
    uint64_t omitted_late;
};

/* The record just appended ends in "}\n"; drop that to add fields to it. */
static void reopen_record(struct ll_buf *b)
{
    assert(b->len >= 2 && memcmp(b->data + b->len - 2, "}\n", 2) == 0);
    b->len -= 2;
    b->data[b->len] = '\0';
}

/* "lines": the raw line of each event in event_list (same index), when the
 * correlator kept lines. A parallel array leaves event_list exactly as the
 * JSON lines contract writes it. */
static void json_lines(struct ll_buf *b, const struct ll_timeline *tl)
{
    size_t i = 0;
    while (i < tl->n_events_kept && tl->events[i].line.len == 0)
        i++;
    if (i == tl->n_events_kept)
        return;
    ll_buf_puts(b, ",\"lines\":[");
    for (i = 0; i < tl->n_events_kept; i++) {
        if (i)
            ll_buf_putc(b, ',');
        ll_buf_json_opt(b, tl->events[i].line);
    }
    ll_buf_putc(b, ']');
}

/* "matched": the indices in event_list of the events that matched a step of
 * a loaded rule, when any did; the report marks them on the swimlanes. */
static void json_matched(struct ll_buf *b, const struct ll_timeline *tl)
{
    bool any = false;
    for (size_t i = 0; i < tl->n_events_kept; i++) {
        if (!(tl->events[i].flags & LL_EV_MATCHED))
            continue;
        ll_buf_puts(b, any ? "," : ",\"matched\":[");
        ll_buf_printf(b, "%zu", i);
        any = true;
    }
    if (any)
        ll_buf_putc(b, ']');
}

/* Counts the record in @p omitted instead when the data is over its cap. */
static bool over_cap(const struct html *h, uint64_t *omitted)
{
    if (h->data.len < HTML_MAX_DATA)
        return false;
    (*omitted)++;
    return true;
}

static int html_timeline(ll_sink *s, const struct ll_timeline *tl)
{
    struct html *h = s->priv;
    if (over_cap(h, &h->omitted_timelines))
        return LL_OK;
    ll_timeline_to_json(&h->data, tl, true);
    reopen_record(&h->data);
    json_lines(&h->data, tl);
    json_matched(&h->data, tl);
    ll_buf_puts(&h->data, "},\n");
    return LL_OK;
}

static int html_alert(ll_sink *s, const struct ll_alert *a)
{
    struct html *h = s->priv;
    /* Alerts are few and the reason for the report: never omitted. */
    ll_alert_to_json(&h->data, a);
    reopen_record(&h->data);
    ll_buf_puts(&h->data, "},\n");
    return LL_OK;
}

static int html_late(ll_sink *s, const struct ll_late *late)
{
    struct html *h = s->priv;
    if (over_cap(h, &h->omitted_late))
        return LL_OK;
    ll_late_to_json(&h->data, late);
    reopen_record(&h->data);
    if (late->ev.line.len) {
        ll_buf_puts(&h->data, ",\"line\":");
        ll_buf_json_str(&h->data, late->ev.line.ptr, late->ev.line.len);
    }
    if (late->ev.flags & LL_EV_MATCHED)
        ll_buf_puts(&h->data, ",\"matched\":true");
    ll_buf_puts(&h->data, "},\n");
    return LL_OK;
}

/* Write JSON so that no log text can end the script element it sits in:
 * '<' only occurs inside JSON strings, where "\u003c" means the same. This
 * covers "</script" as well as "<!--", which would change how the HTML
 * parser reads the rest of the element. */
static void write_inert(FILE *out, const char *p, size_t len)
{
    const char *end = p + len, *lt;
    while ((lt = memchr(p, '<', (size_t)(end - p)))) {
        fwrite(p, 1, (size_t)(lt - p), out);
        fputs("\\u003c", out);
        p = lt + 1;
    }
    fwrite(p, 1, (size_t)(end - p), out);
}

/* The skeleton's markers, in the order they occur in report.html, each
 * replaced with what it names: the CSP's hashes of the style and the
 * script, then the style, the records and the script themselves (exactly
 * the hashed text between their tags). */
enum page_part { PAGE_CSS_HASH, PAGE_JS_HASH, PAGE_CSS, PAGE_DATA, PAGE_JS, PAGE__COUNT };
static const char *const page_markers[PAGE__COUNT] = {
    [PAGE_CSS_HASH] = "'ll:css-hash'",
    [PAGE_JS_HASH] = "'ll:js-hash'",
    [PAGE_CSS] = "<!-- ll:css -->",
    [PAGE_DATA] = "<!-- ll:data -->\n",
    [PAGE_JS] = "<!-- ll:js -->",
};

/* The compiled-in file of report/ called @p name. */
static const struct ll_embedded_file *asset(const char *name)
{
    const struct ll_embedded_file *f = ll__report_assets;
    while (f->name && strcmp(f->name, name) != 0)
        f++;
    assert(f->name);
    return f;
}

static void write_asset(FILE *out, const char *name)
{
    const struct ll_embedded_file *f = asset(name);
    fwrite(f->text, 1, f->len, out);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* The CSP source naming asset @p name: 'sha256-<base64 of its digest>'. */
static void write_hash(FILE *out, const char *name)
{
    const char *hex = asset(name)->sha256;
    unsigned char digest[32];
    for (size_t i = 0; i < sizeof digest; i++)
        digest[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
    struct ll_buf b = {0};
    ll_buf_puts(&b, "'sha256-");
    ll_buf_base64(&b, digest, sizeof digest);
    ll_buf_putc(&b, '\'');
    fwrite(b.data, 1, b.len, out);
    ll_buf_free(&b);
}

static void write_part(FILE *out, enum page_part part, const struct ll_buf *data)
{
    switch (part) {
    case PAGE_CSS_HASH:
        write_hash(out, "report.css");
        break;
    case PAGE_JS_HASH:
        write_hash(out, "report.js");
        break;
    case PAGE_CSS:
        write_asset(out, "report.css");
        break;
    case PAGE_DATA:
        write_inert(out, data->data, data->len);
        break;
    case PAGE_JS:
        write_asset(out, "report.js");
        break;
    case PAGE__COUNT:
        break;
    }
}

/* report.html with its markers filled: the styles, @p data (the records,
 * between the brackets of a JSON array) and the script. */
static void write_page(FILE *out, const struct ll_buf *data)
{
    const struct ll_embedded_file *page = asset("report.html");
    const char *p = page->text, *end = p + page->len;
    for (int part = 0; part < PAGE__COUNT; part++) {
        /* The skeleton is ours and NUL-terminated; a marker missing from it
         * is a bug in report.html, caught by the report's tests. */
        const char *m = strstr(p, page_markers[part]);
        assert(m);
        if (!m)
            break;
        fwrite(p, 1, (size_t)(m - p), out);
        write_part(out, (enum page_part)part, data);
        p = m + strlen(page_markers[part]);
    }
    fwrite(p, 1, (size_t)(end - p), out);
}

/* The end of the run: the orphans, the stats and the page around them. */
static int html_stats(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                      size_t n_orphans)
{
    struct html *h = s->priv;
    struct ll_buf *b = &h->data;
    for (size_t i = 0; i < n_orphans; i++) {
        ll_orphans_to_json(b, &orphans[i]);
        reopen_record(b);
        ll_buf_puts(b, "},\n");
    }
    ll_stats_to_json(b, st, orphans, n_orphans);
    reopen_record(b);
    ll_buf_printf(b, "},\n{\"type\":\"report\",\"omitted_timelines\":%llu,\"omitted_late\":%llu}",
                  (unsigned long long)h->omitted_timelines, (unsigned long long)h->omitted_late);
    write_page(s->out, b);
    return ferror(s->out) ? LL_EIO : LL_OK;
}

static void html_destroy(ll_sink *s)
{
    struct html *h = s->priv;
    ll_buf_free(&h->data);
    ll_free(h);
}

static const struct ll__sink_ops html_ops = {html_timeline, html_late, html_alert, html_stats,
                                             html_destroy};

ll_sink *ll_sink_html_new(FILE *out, const struct ll_sink_opts *opts)
{
    ll_sink *s = ll__sink_new(&html_ops, out, opts);
    s->priv = ll_calloc(1, sizeof(struct html));
    return s;
}
