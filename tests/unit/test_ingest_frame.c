/* Container log framing: docker json-file objects and CRI lines back into the
 * application's lines, joining of split lines, auto-detection, the length
 * cap, and the Kubernetes names in a container log file name. The samples
 * have the shapes dockerd's json-file driver and containerd/CRI-O write into
 * /var/log/containers/ (dockerd escapes <, > and & as \u003c, \u003e,
 * \u0026; CRI-O writes local times with an offset). */
#include "../testutil.h"

#include "logloom/ingest.h"

/* 2026-11-27T10:00:00Z */
#define T0 (INT64_C(1795773600) * LL_NS_PER_SEC)
#define PIECE 16384 /* dockerd's and containerd's split size */

struct fx {
    ll_deframer *d;
    struct ll_frame fr;
};

static int setup_with(void **state, enum ll_frame_format fmt, size_t max_len)
{
    struct fx *f = calloc(1, sizeof *f);
    f->d = ll_deframer_new(fmt, max_len);
    assert_non_null(f->d);
    *state = f;
    return 0;
}

static int setup_auto(void **state)
{
    return setup_with(state, LL_FRAME_AUTO, 0);
}

static int setup_docker(void **state)
{
    return setup_with(state, LL_FRAME_DOCKER, 0);
}

static int setup_cri(void **state)
{
    return setup_with(state, LL_FRAME_CRI, 0);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ll_deframer_destroy(f->d);
    free(f);
    return 0;
}

static void assert_str(struct ll_str got, const char *want)
{
    size_t n = strlen(want);
    if (got.len != n)
        fail_msg("got %zu bytes \"%.*s\", want %zu bytes \"%s\"", got.len, (int)got.len,
                 got.ptr, n, want);
    assert_memory_equal(got.ptr, want, n);
}

/* Pushes a line that completes a logical line; returns the frame. */
static const struct ll_frame *line_out(struct fx *f, const char *line)
{
    memset(&f->fr, 0xa5, sizeof f->fr); /* stale fields would show */
    assert_int_equal(ll_deframer_push(f->d, line, strlen(line), &f->fr), 1);
    return &f->fr;
}

/* Pushes a partial chunk, which the deframer holds and describes. */
static void held(struct fx *f, const char *line)
{
    memset(&f->fr, 0xa5, sizeof f->fr);
    assert_int_equal(ll_deframer_push(f->d, line, strlen(line), &f->fr), 0);
    assert_true(f->fr.partial);
    assert_false(f->fr.mismatch);
    assert_true(f->fr.chunks >= 1);
}

/* A complete, unsplit, well-framed line. */
static void assert_whole(const struct ll_frame *fr, const char *text, int64_t ts, bool err)
{
    assert_str(fr->line, text);
    assert_true(fr->ts_ns == ts);
    assert_int_equal(fr->stderr_stream, err);
    assert_int_equal(fr->chunks, 1);
    assert_false(fr->too_long);
    assert_false(fr->mismatch);
    assert_false(fr->partial);
}

/* Passed through as plain text because it did not match the file's format. */
static void assert_mismatch(const struct ll_frame *fr, const char *line)
{
    assert_str(fr->line, line);
    assert_true(fr->ts_ns == LL_TIME_NONE);
    assert_int_equal(fr->chunks, 1);
    assert_true(fr->mismatch);
    assert_false(fr->too_long);
    assert_false(fr->partial);
}

/* What dockerd's json-file driver writes for @p len bytes of @p text (a
 * piece of a line; the caller includes the final newline when the piece
 * ends the line). Caller frees. */
static char *docker_obj(const char *text, size_t len, const char *stream, const char *time)
{
    struct ll_buf b = {0};
    ll_buf_puts(&b, "{\"log\":\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\')
            ll_buf_printf(&b, "\\%c", c);
        else if (c == '\n')
            ll_buf_puts(&b, "\\n");
        else if (c == '\r')
            ll_buf_puts(&b, "\\r");
        else if (c == '\t')
            ll_buf_puts(&b, "\\t");
        else if (c == '<' || c == '>' || c == '&' || c < 0x20)
            ll_buf_printf(&b, "\\u%04x", c);
        else
            ll_buf_putc(&b, (char)c);
    }
    ll_buf_printf(&b, "\",\"stream\":\"%s\",\"time\":\"%s\"}", stream, time);
    char *s = ll_strdup(b.data);
    ll_buf_free(&b);
    return s;
}

/* A pino line of about @p size bytes, the tool output it logs padded with
 * quotes, backslashes, '<' and non-ASCII text, so escapes straddle pieces.
 * Caller frees. */
static char *long_pino_line(size_t size)
{
    struct ll_buf b = {0};
    ll_buf_puts(&b, "{\"level\":30,\"time\":1795773600123,\"pid\":7,\"hostname\":"
                    "\"agent-7d9f6c5b8-x2kqp\",\"correlationId\":\"3f1c2a9e\",\"output\":\"");
    for (unsigned i = 0; b.len < size; i++)
        ll_buf_printf(&b, "row %u: \\\"caf\xc3\xa9\\\" <td> C:\\\\tmp; ", i);
    ll_buf_puts(&b, "\",\"msg\":\"tool finished\"}");
    char *s = ll_strdup(b.data);
    ll_buf_free(&b);
    return s;
}

/* ------------------------------------------------------------------------ */
/* docker json-file                                                          */

static void docker_line_is_unwrapped(void **state)
{
    struct fx *f = *state;
    const struct ll_frame *fr = line_out(
        f, "{\"log\":\"{\\\"level\\\":30,\\\"time\\\":1795773600123,\\\"pid\\\":1,\\\"hostname\\\":"
           "\\\"agent-7d9f6c5b8-x2kqp\\\",\\\"msg\\\":\\\"workflow started\\\"}\\n\","
           "\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00.123456789Z\"}");
    assert_whole(fr,
                 "{\"level\":30,\"time\":1795773600123,\"pid\":1,\"hostname\":"
                 "\"agent-7d9f6c5b8-x2kqp\",\"msg\":\"workflow started\"}",
                 T0 + 123456789, false);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_DOCKER);
}

static void docker_escapes_are_decoded(void **state)
{
    const struct ll_frame *fr = line_out(
        *state, "{\"log\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" C:\\\\tmp \\/x a\\u003cb\\u0026c "
                "\\t\\b\\f|\\u00E9|\\u20ac\\n\",\"stream\":\"stdout\","
                "\"time\":\"2026-11-27T10:00:00Z\"}");
    assert_whole(fr,
                 "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" C:\\tmp /x a<b&c \t\b\f|\xc3\xa9|"
                 "\xe2\x82\xac",
                 T0, false);
}

static void docker_lone_surrogate_becomes_replacement_character(void **state)
{
    /* Well-formed JSON naming no character: U+FFFD, as Go reads it. */
    const struct ll_frame *fr =
        line_out(*state, "{\"log\":\"a\\ud83db\\ude00c\\ud83d\\n\",\"stream\":\"stdout\","
                         "\"time\":\"2026-11-27T10:00:00Z\"}");
    assert_whole(fr, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd", T0, false);
}

static void docker_split_line_is_joined_exactly(void **state)
{
    struct fx *f = *state;
    char *app = long_pino_line(2 * PIECE + 5000);
    size_t n = strlen(app);
    assert_true(n > 2 * PIECE);
    /* No cut inside a character (dockerd would write U+FFFD for its halves). */
    assert_true((app[PIECE] & 0xC0) != 0x80 && (app[2 * PIECE] & 0xC0) != 0x80);
    /* dockerd cuts the raw bytes at 16 KiB; only the last piece has "\n". */
    char *last = malloc(n - 2 * PIECE + 2);
    memcpy(last, app + 2 * PIECE, n - 2 * PIECE);
    memcpy(last + n - 2 * PIECE, "\n", 2);
    char *p1 = docker_obj(app, PIECE, "stdout", "2026-11-27T10:00:00.000000001Z");
    char *p2 = docker_obj(app + PIECE, PIECE, "stdout", "2026-11-27T10:00:00.000000002Z");
    char *p3 = docker_obj(last, strlen(last), "stdout", "2026-11-27T10:00:00.000000003Z");
    held(f, p1);
    held(f, p2);
    const struct ll_frame *fr = line_out(f, p3);
    assert_int_equal(fr->line.len, n);
    assert_memory_equal(fr->line.ptr, app, n);
    assert_int_equal(fr->chunks, 3);
    assert_true(fr->ts_ns == T0 + 1); /* the first piece's time */
    assert_false(fr->too_long);
    assert_false(fr->mismatch);
    /* The next line stands alone. */
    assert_whole(line_out(f, "{\"log\":\"next\\n\",\"stream\":\"stdout\",\"time\":"
                             "\"2026-11-27T10:00:01Z\"}"),
                 "next", T0 + LL_NS_PER_SEC, false);
    free(app);
    free(last);
    free(p1);
    free(p2);
    free(p3);
}

static void docker_crlf_is_stripped(void **state)
{
    struct fx *f = *state;
    assert_whole(line_out(f, "{\"log\":\"GET /health 200\\r\\n\",\"stream\":\"stdout\","
                             "\"time\":\"2026-11-27T10:00:00Z\"}"),
                 "GET /health 200", T0, false);
    /* Only the CR of the line end goes. */
    assert_whole(line_out(f, "{\"log\":\"a\\rb\\r\\r\\n\",\"stream\":\"stdout\","
                             "\"time\":\"2026-11-27T10:00:00Z\"}"),
                 "a\rb\r", T0, false);
    /* A CR ending a piece and the LF starting the next make one line end. */
    held(f, "{\"log\":\"split\\r\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    const struct ll_frame *fr =
        line_out(f, "{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    assert_str(fr->line, "split");
    assert_int_equal(fr->chunks, 2);
}

static void docker_keys_in_any_order_with_attrs(void **state)
{
    struct fx *f = *state;
    /* With --log-opt labels/tag, dockerd adds "attrs" after "time". */
    assert_whole(line_out(f, " { \"time\" : \"2026-11-27T10:00:02.5Z\" , \"attrs\":{\"tag\":"
                             "\"agent\",\"n\":[1,-2.5e3,true,null,{\"k\":\"}\"}]}, \"stream\":"
                             "\"stderr\",\"log\":\"node:internal/child_process:413\\n\"} "),
                 "node:internal/child_process:413", T0 + 2500 * LL_NS_PER_MS, true);
    assert_whole(line_out(f, "{\"stream\":\"stdout\",\"log\":\"x\\n\",\"time\":"
                             "\"2026-11-27T10:00:00Z\",\"attrs\":{}}"),
                 "x", T0, false);
    /* An escaped key is still the key. */
    assert_whole(line_out(f, "{\"\\u006cog\":\"y\\n\",\"stream\":\"stderr\",\"time\":"
                             "\"2026-11-27T10:00:00Z\"}"),
                 "y", T0, true);
}

static void docker_stderr_and_stdout_pieces_join_separately(void **state)
{
    struct fx *f = *state;
    held(f, "{\"log\":\"out-1 \",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    assert_false(f->fr.stderr_stream);
    held(f, "{\"log\":\"err-1 \",\"stream\":\"stderr\",\"time\":\"2026-11-27T10:00:01Z\"}");
    /* What is held, and on which stream: a caller keys positions by it. */
    assert_true(f->fr.stderr_stream);
    assert_str(f->fr.line, "err-1 ");
    assert_int_equal(f->fr.chunks, 1);
    assert_true(f->fr.ts_ns == T0 + LL_NS_PER_SEC);
    const struct ll_frame *fr = line_out(
        f, "{\"log\":\"err-2\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-27T10:00:02Z\"}");
    assert_str(fr->line, "err-1 err-2");
    assert_true(fr->stderr_stream);
    assert_true(fr->ts_ns == T0 + LL_NS_PER_SEC);
    assert_int_equal(fr->chunks, 2);
    fr = line_out(f, "{\"log\":\"out-2\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:03Z\"}");
    assert_str(fr->line, "out-1 out-2");
    assert_false(fr->stderr_stream);
    assert_true(fr->ts_ns == T0);
    assert_int_equal(fr->chunks, 2);
}

static void docker_malformed_objects_pass_through_as_mismatch(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "{\"log\":\"unterminated\\n\",\"stream\":\"stdout\"",
        "{\"log\":\"bad escape \\x41\\n\",\"stream\":\"stdout\"}",
        "{\"log\":\"short \\u12G4\\n\",\"stream\":\"stdout\"}",
        "{\"log\":\"short \\u12\"}",
        "{\"log\":\"raw\ttab\\n\",\"stream\":\"stdout\"}",
        "{\"log\":\"x\\n\",\"stream\":\"stdout\"} trailing",
        "{\"log\":\"x\\n\",\"stream\":\"stdout\",}",
        "{\"log\":\"x\\n\" \"stream\":\"stdout\"}",
        "{\"log\":{\"level\":\"info\"},\"stream\":\"stdout\"}",
        "{\"log\":\"x\\n\",\"stream\":\"console\"}",
        "{\"log\":\"x\\n\",\"time\":\"yesterday\"}",
        "{\"log\":\"x\\n\",\"attrs\":{\"a\":01}}",
        "{\"log\":\"x\\n\",\"attrs\":[1,]}",
        "{\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}",
        "{}",
        "[\"log\"]",
        "Killed",
    };
    /* A held piece survives the bad lines in between. */
    held(f, "{\"log\":\"first half \",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_mismatch(line_out(f, bad[i]), bad[i]);
    const struct ll_frame *fr = line_out(
        f, "{\"log\":\"second half\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:01Z\"}");
    assert_str(fr->line, "first half second half");
    assert_int_equal(fr->chunks, 2);
    assert_false(fr->mismatch);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_DOCKER);
}

/* ------------------------------------------------------------------------ */
/* CRI                                                                       */

static void cri_full_line(void **state)
{
    struct fx *f = *state;
    const char *line = "2026-11-27T10:00:00.123456789Z stdout F {\"level\":30,\"time\":"
                       "1795773600123,\"msg\":\"listening on :8080\"}";
    assert_whole(line_out(f, line),
                 "{\"level\":30,\"time\":1795773600123,\"msg\":\"listening on :8080\"}",
                 T0 + 123456789, false);
    /* Raw text: nothing is unescaped. */
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stderr F a\\nb \\u00e9 \"q\"\r"),
                 "a\\nb \\u00e9 \"q\"", T0, true);
    /* An empty line the application printed. */
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stdout F "), "", T0, false);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_CRI);
}

static void cri_partial_chunks_are_joined(void **state)
{
    struct fx *f = *state;
    char *app = long_pino_line(2 * PIECE + 777);
    size_t n = strlen(app);
    struct ll_buf b = {0};
    ll_buf_printf(&b, "2026-11-27T10:00:00.000000001Z stdout P %.*s", PIECE, app);
    held(f, b.data);
    ll_buf_reset(&b);
    ll_buf_printf(&b, "2026-11-27T10:00:00.000000002Z stdout P %.*s", PIECE, app + PIECE);
    held(f, b.data);
    ll_buf_reset(&b);
    ll_buf_printf(&b, "2026-11-27T10:00:00.000000003Z stdout F %s", app + 2 * PIECE);
    const struct ll_frame *fr = line_out(f, b.data);
    assert_int_equal(fr->line.len, n);
    assert_memory_equal(fr->line.ptr, app, n);
    assert_int_equal(fr->chunks, 3);
    assert_true(fr->ts_ns == T0 + 1);
    assert_false(fr->too_long);
    assert_false(fr->partial);
    assert_whole(line_out(f, "2026-11-27T10:00:01Z stdout F done"), "done",
                 T0 + LL_NS_PER_SEC, false);
    ll_buf_free(&b);
    free(app);
}

static void cri_streams_are_joined_separately(void **state)
{
    struct fx *f = *state;
    held(f, "2026-11-27T10:00:00.1Z stdout P {\"level\":30,");
    held(f, "2026-11-27T10:00:00.2Z stderr P (node:7) Warning: ");
    held(f, "2026-11-27T10:00:00.3Z stdout P \"msg\":");
    assert_false(f->fr.stderr_stream);
    assert_str(f->fr.line, "{\"level\":30,\"msg\":");
    assert_int_equal(f->fr.chunks, 2);
    assert_true(f->fr.ts_ns == T0 + 100 * LL_NS_PER_MS);
    const struct ll_frame *fr = line_out(f, "2026-11-27T10:00:00.4Z stderr F deprecated");
    assert_str(fr->line, "(node:7) Warning: deprecated");
    assert_true(fr->stderr_stream);
    assert_true(fr->ts_ns == T0 + 200 * LL_NS_PER_MS);
    assert_int_equal(fr->chunks, 2);
    fr = line_out(f, "2026-11-27T10:00:00.5Z stdout F \"ok\"}");
    assert_str(fr->line, "{\"level\":30,\"msg\":\"ok\"}");
    assert_false(fr->stderr_stream);
    assert_true(fr->ts_ns == T0 + 100 * LL_NS_PER_MS);
    assert_int_equal(fr->chunks, 3);
    /* An unsplit line of one stream leaves the other's held line alone. */
    held(f, "2026-11-27T10:00:00.6Z stderr P x");
    assert_whole(line_out(f, "2026-11-27T10:00:00.7Z stdout F whole"), "whole",
                 T0 + 700 * LL_NS_PER_MS, false);
    fr = line_out(f, "2026-11-27T10:00:00.8Z stderr F y");
    assert_str(fr->line, "xy");
    assert_true(fr->stderr_stream);
    assert_int_equal(fr->chunks, 2);
}

static void cri_tagless_old_form_is_a_full_line(void **state)
{
    struct fx *f = *state;
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stdout {\"msg\":\"old runtime\"}"),
                 "{\"msg\":\"old runtime\"}", T0, false);
    /* "Fine" is text, not the F tag; a lone "P" or "F" is a tag. */
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stderr Fine day"), "Fine day", T0, true);
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stdout F"), "", T0, false);
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stdout "), "", T0, false);
}

static void cri_time_with_offset(void **state)
{
    struct fx *f = *state;
    /* CRI-O writes local time with its offset. */
    assert_whole(line_out(f, "2026-11-27T11:00:00.123456789+01:00 stdout F x"), "x",
                 T0 + 123456789, false);
    assert_whole(line_out(f, "2026-11-27T04:30:00.5-05:30 stderr F y"), "y",
                 T0 + 500 * LL_NS_PER_MS, true);
}

static void cri_malformed_lines_pass_through_as_mismatch(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "panic: runtime error: invalid memory address",
        "2026-11-27T10:00:00Z stdin F x",
        "2026-11-27T10:00:00Z stdout",
        "2026-11-27T25:00:00Z stdout F x",
        "2026-11-27 stdout F x",
        "1795773600 stdout F x",
        "2026-11-27T10:00:00Z  stdout F x",
    };
    held(f, "2026-11-27T10:00:00Z stdout P a");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_mismatch(line_out(f, bad[i]), bad[i]);
    const struct ll_frame *fr = line_out(f, "2026-11-27T10:00:00Z stdout F b");
    assert_str(fr->line, "ab");
    assert_int_equal(fr->chunks, 2);
}

/* ------------------------------------------------------------------------ */
/* Auto-detection                                                            */

static void auto_detects_docker_and_sticks(void **state)
{
    struct fx *f = *state;
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_AUTO);
    /* Blank lines decide nothing. */
    assert_str(line_out(f, "")->line, "");
    assert_str(line_out(f, " \r")->line, " \r");
    assert_false(f->fr.mismatch);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_AUTO);
    assert_whole(line_out(f, "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":"
                             "\"2026-11-27T10:00:00Z\"}"),
                 "hi", T0, false);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_DOCKER);
    const char *cri = "2026-11-27T10:00:00Z stdout F hi";
    assert_mismatch(line_out(f, cri), cri);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_DOCKER);
}

static void auto_detects_docker_by_stream_key(void **state)
{
    struct fx *f = *state;
    assert_whole(line_out(f, "{\"time\":\"2026-11-27T10:00:00Z\",\"stream\":\"stderr\","
                             "\"log\":\"x\\n\"}"),
                 "x", T0, true);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_DOCKER);
}

static void auto_detects_a_split_first_line(void **state)
{
    struct fx *f = *state;
    held(f, "2026-11-27T10:00:00Z stderr P first ");
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_CRI);
    assert_str(line_out(f, "2026-11-27T10:00:00Z stderr F line")->line, "first line");
}

static void auto_detects_cri_and_sticks(void **state)
{
    struct fx *f = *state;
    assert_whole(line_out(f, "2026-11-27T10:00:00Z stdout F {\"msg\":\"up\"}"),
                 "{\"msg\":\"up\"}", T0, false);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_CRI);
    const char *docker = "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":"
                         "\"2026-11-27T10:00:00Z\"}";
    assert_mismatch(line_out(f, docker), docker);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_CRI);
}

static void auto_detects_plain_and_sticks(void **state)
{
    struct fx *f = *state;
    /* An application's own JSON: "log" neither first nor with "stream". */
    const char *pino = "{\"level\":30,\"log\":\"x\",\"msg\":\"up\"}";
    const struct ll_frame *fr = line_out(f, pino);
    assert_str(fr->line, pino);
    assert_true(fr->ts_ns == LL_TIME_NONE);
    assert_false(fr->mismatch);
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_PLAIN);
    /* Later framed-looking lines are plain text too, and no mismatch. */
    const char *later[] = {
        "2026-11-27T10:00:00Z stdout P not a chunk",
        "{\"log\":\"hi\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        fr = line_out(f, later[i]);
        assert_str(fr->line, later[i]);
        assert_int_equal(fr->chunks, 1);
        assert_false(fr->mismatch);
    }
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 0);
}

static void auto_plain_for_look_alikes(void **state)
{
    (void)state;
    static const char *const first[] = {
        "{\"log\":{\"level\":\"info\"},\"message\":\"ecs\"}", /* "log" not a string */
        "{\"msg\":\"a\",\"log\":\"b\"}",                   /* not first, no stream */
        "1795773600 stdout F x",                            /* epoch, not RFC 3339 */
        "2026-11-27T10:00:00Z info server started",         /* no stream */
        "{\"log\":\"x\\n\"",                                /* malformed */
    };
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        ll_deframer *d = ll_deframer_new(LL_FRAME_AUTO, 0);
        struct ll_frame fr;
        assert_int_equal(ll_deframer_push(d, first[i], strlen(first[i]), &fr), 1);
        assert_int_equal(ll_deframer_format(d), LL_FRAME_PLAIN);
        assert_str(fr.line, first[i]);
        assert_false(fr.mismatch);
        ll_deframer_destroy(d);
    }
    /* A bare {"log":"..."} (first key) is docker. */
    ll_deframer *d = ll_deframer_new(LL_FRAME_AUTO, 0);
    struct ll_frame fr;
    assert_int_equal(ll_deframer_push(d, "{\"log\":\"z\\n\"}", 13, &fr), 1);
    assert_int_equal(ll_deframer_format(d), LL_FRAME_DOCKER);
    assert_str(fr.line, "z");
    assert_true(fr.ts_ns == LL_TIME_NONE);
    ll_deframer_destroy(d);
}

/* ------------------------------------------------------------------------ */
/* Cap and flush                                                             */

static void too_long_cri_line_is_cut_and_the_next_is_intact(void **state)
{
    struct fx *f = *state; /* max_len 10 */
    held(f, "2026-11-27T10:00:00Z stdout P 0123456");
    held(f, "2026-11-27T10:00:01Z stdout P 789ABCDEF");
    held(f, "2026-11-27T10:00:02Z stdout P GHIJ");
    const struct ll_frame *fr = line_out(f, "2026-11-27T10:00:03Z stdout F KLM");
    assert_str(fr->line, "0123456789");
    assert_true(fr->too_long);
    assert_int_equal(fr->chunks, 4);
    assert_true(fr->ts_ns == T0);
    assert_false(fr->partial);
    fr = line_out(f, "2026-11-27T10:00:04Z stdout F next line");
    assert_whole(fr, "next line", T0 + 4 * LL_NS_PER_SEC, false);
    /* An unsplit line over the cap, and one exactly at it. */
    fr = line_out(f, "2026-11-27T10:00:05Z stdout F 0123456789X");
    assert_str(fr->line, "0123456789");
    assert_true(fr->too_long);
    assert_int_equal(fr->chunks, 1);
    assert_whole(line_out(f, "2026-11-27T10:00:05Z stdout F 0123456789\r"), "0123456789",
                 T0 + 5 * LL_NS_PER_SEC, false);
}

static void too_long_docker_line_is_cut_at_a_character(void **state)
{
    struct fx *f = *state; /* max_len 10 */
    /* "abcdefghi" then é (2 bytes) straddles the cap: the cut goes before it. */
    held(f, "{\"log\":\"abcdefghi\\u00e9\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    held(f, "{\"log\":\"more\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:01Z\"}");
    const struct ll_frame *fr =
        line_out(f, "{\"log\":\"end\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:02Z\"}");
    assert_str(fr->line, "abcdefghi");
    assert_true(fr->too_long);
    assert_int_equal(fr->chunks, 3);
    /* A dropped piece that looks like a line end inside ("\\n" is a backslash
     * and an n) does not end the line. */
    held(f, "{\"log\":\"0123456789ABC\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:03Z\"}");
    held(f, "{\"log\":\"x\\\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:04Z\"}");
    fr = line_out(f, "{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:05Z\"}");
    assert_str(fr->line, "0123456789");
    assert_int_equal(fr->chunks, 3);
    assert_whole(line_out(f, "{\"log\":\"intact\\n\",\"stream\":\"stdout\",\"time\":"
                             "\"2026-11-27T10:00:06Z\"}"),
                 "intact", T0 + 6 * LL_NS_PER_SEC, false);
}

static void too_long_plain_and_mismatched_lines_are_cut(void **state)
{
    (void)state;
    ll_deframer *d = ll_deframer_new(LL_FRAME_PLAIN, 4);
    struct ll_frame fr;
    assert_int_equal(ll_deframer_push(d, "abcdef", 6, &fr), 1);
    assert_str(fr.line, "abcd");
    assert_true(fr.too_long);
    ll_deframer_destroy(d);
    d = ll_deframer_new(LL_FRAME_CRI, 4);
    assert_int_equal(ll_deframer_push(d, "Killed", 6, &fr), 1);
    assert_str(fr.line, "Kill");
    assert_true(fr.too_long);
    assert_true(fr.mismatch);
    ll_deframer_destroy(d);
}

static void flush_hands_out_held_partials_oldest_first(void **state)
{
    struct fx *f = *state;
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 0);
    held(f, "2026-11-27T10:00:01Z stderr P err-a ");
    held(f, "2026-11-27T10:00:00Z stdout P out-a ");
    held(f, "2026-11-27T10:00:02Z stderr P err-b");
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 1);
    assert_str(f->fr.line, "err-a err-b");
    assert_true(f->fr.stderr_stream);
    assert_true(f->fr.partial);
    assert_int_equal(f->fr.chunks, 2);
    assert_true(f->fr.ts_ns == T0 + LL_NS_PER_SEC);
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 1);
    assert_str(f->fr.line, "out-a ");
    assert_false(f->fr.stderr_stream);
    assert_true(f->fr.partial);
    assert_int_equal(f->fr.chunks, 1);
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 0);
    /* The stream starts afresh. */
    assert_whole(line_out(f, "2026-11-27T10:00:03Z stdout F fresh"), "fresh",
                 T0 + 3 * LL_NS_PER_SEC, false);
}

static void flush_of_a_docker_partial(void **state)
{
    struct fx *f = *state;
    held(f, "{\"log\":\"no newline yet\",\"stream\":\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}");
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 1);
    assert_str(f->fr.line, "no newline yet");
    assert_true(f->fr.partial);
    assert_int_equal(ll_deframer_flush(f->d, &f->fr), 0);
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static void format_names_round_trip(void **state)
{
    (void)state;
    const enum ll_frame_format all[] = {LL_FRAME_AUTO, LL_FRAME_PLAIN, LL_FRAME_DOCKER,
                                        LL_FRAME_CRI, LL_FRAME_STAMPED};
    const char *names[] = {"auto", "plain", "docker", "cri", "timestamps"};
    for (int i = 0; i < 5; i++) {
        enum ll_frame_format got = LL_FRAME_AUTO;
        assert_string_equal(ll_frame_format_name(all[i]), names[i]);
        assert_int_equal(ll_frame_format_parse(names[i], &got), LL_OK);
        assert_int_equal(got, all[i]);
    }
    enum ll_frame_format got = LL_FRAME_CRI;
    assert_int_equal(ll_frame_format_parse("json-file", &got), LL_EINVAL);
    assert_int_equal(ll_frame_format_parse("", &got), LL_EINVAL);
    assert_int_equal(ll_frame_format_parse(NULL, &got), LL_EINVAL);
    assert_int_equal(got, LL_FRAME_CRI);
}

#define ID "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

static void assert_k8s(const char *path, const char *pod, const char *ns, const char *ctr)
{
    struct ll_k8s_names n;
    assert_true(ll_k8s_names_from_path(path, &n));
    assert_str(n.pod, pod);
    assert_str(n.namespace_, ns);
    assert_str(n.container, ctr);
    /* Views into the path. */
    assert_true(n.pod.ptr >= path && n.container.ptr + n.container.len <= path + strlen(path));
}

static void k8s_names_from_container_log_paths(void **state)
{
    (void)state;
    assert_k8s("agent-7d9f6c5b8-x2kqp_agents_agent-" ID ".log", "agent-7d9f6c5b8-x2kqp",
               "agents", "agent");
    assert_k8s("/var/log/containers/manager-5c9b7f7d4-abcde_default_tool-api-" ID ".log",
               "manager-5c9b7f7d4-abcde", "default", "tool-api");
    /* Static pods are named after the node, dots included. */
    assert_k8s("/var/log/containers/etcd-ip-10-0-1-23.ec2.internal_kube-system_etcd-" ID ".log",
               "etcd-ip-10-0-1-23.ec2.internal", "kube-system", "etcd");
    assert_k8s("a_b_c-" ID ".log", "a", "b", "c");
}

static void k8s_names_from_pod_log_paths(void **state)
{
    (void)state;
    assert_k8s("/var/log/pods/agents_agent-7d9f6c5b8-x2kqp_0b8e2a4c-1f3d-4e5a-9b7c-2d6f8a0e1c3b/"
               "agent/0.log",
               "agent-7d9f6c5b8-x2kqp", "agents", "agent");
    /* Restarts count up; kubelet rotates to a dated name, then gzips it. */
    assert_k8s("pods/fleet_monitor-0_uid/monitor/3.log", "monitor-0", "fleet", "monitor");
    assert_k8s("pods/fleet_monitor-0_uid/monitor/0.log.20261207-101500", "monitor-0", "fleet",
               "monitor");
    assert_k8s("pods/fleet_monitor-0_uid/monitor/0.log.20261207-101500.gz", "monitor-0", "fleet",
               "monitor");
    static const char *const not_pods[] = {
        "fleet_monitor-0_uid/monitor/current.log", /* not a restart count */
        "fleet_monitor-0/monitor/0.log",           /* no uid */
        "fleet_monitor-0_uid_x/monitor/0.log",     /* four names */
        "fleet_monitor-0_/monitor/0.log",          /* empty uid */
        "fleet_monitor-0_uid/Monitor/0.log",       /* upper case container */
        "monitor/0.log",
        "0.log",
    };
    for (size_t i = 0; i < sizeof not_pods / sizeof not_pods[0]; i++) {
        struct ll_k8s_names n;
        if (ll_k8s_names_from_path(not_pods[i], &n))
            fail_msg("taken as a pod log: %s", not_pods[i]);
    }
    /* The service of a container log is its container, whatever the file. */
    assert_str(ll_service_from_path("pods/fleet_monitor-0_uid/monitor/0.log"), "monitor");
    assert_str(ll_service_from_path("containers/agent-1-0_fleet_agent-" ID ".log"), "agent");
}

/* `kubectl logs --timestamps`: the time, a space, the line. */
static void kubectl_timestamps_are_unwrapped(void **state)
{
    struct fx *f = *state;
    const struct ll_frame *fr = line_out(f, "2026-11-27T10:00:00.000000001Z {\"msg\":\"a b\"}");
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_STAMPED);
    assert_str(fr->line, "{\"msg\":\"a b\"}");
    assert_int_equal(fr->ts_ns, T0 + 1);
    assert_false(fr->mismatch);
    /* Text after the first JSON line (a crash report) is unwrapped too. */
    fr = line_out(f, "2026-11-27T10:00:01Z FATAL ERROR: out of memory");
    assert_str(fr->line, "FATAL ERROR: out of memory");
    assert_int_equal(fr->ts_ns, T0 + LL_NS_PER_SEC);
    fr = line_out(f, "no time here");
    assert_true(fr->mismatch);
    assert_str(fr->line, "no time here");
}

/* A text log that begins with its own time is no kubectl output. */
static void a_timed_text_log_stays_plain(void **state)
{
    struct fx *f = *state;
    const struct ll_frame *fr = line_out(f, "2026-11-27T10:00:00Z INFO started");
    assert_int_equal(ll_deframer_format(f->d), LL_FRAME_PLAIN);
    assert_str(fr->line, "2026-11-27T10:00:00Z INFO started");
}

static void k8s_names_reject_other_files(void **state)
{
    (void)state;
    static const char *const not_k8s[] = {
        "agent-1.log",
        "/var/log/agent_1.log",
        "logs/child-4312.log.2.gz",
        "agent-7d9f6c5b8-x2kqp_agents_agent-" ID ".log.1",   /* rotated */
        "agent-7d9f6c5b8-x2kqp_agents_agent-" ID,            /* no .log */
        "agent-7d9f6c5b8-x2kqp_agents_agent" ID ".log",      /* no dash before the id */
        "agent-x2kqp_agents_agent-" "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"
        ".log",                                              /* 63 hex */
        "agent-x2kqp_agents_agent-" "9F2C4E7A1B3D5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8"
        ".log",                                              /* upper case id */
        "agent-x2kqp_agents-" ID ".log",                     /* two names */
        "agent_x2kqp_agents_agent-" ID ".log",               /* four names */
        "_agents_agent-" ID ".log",                          /* empty pod */
        "agent_agents_-" ID ".log",                          /* empty container */
        "Agent_agents_agent-" ID ".log",                     /* upper case */
        "agent_agents.prod_agent-" ID ".log",                /* dot in a label */
        "agent_agents_agent.v2-" ID ".log",
        "agent-_agents_agent-" ID ".log",                    /* ends with '-' */
        "/var/log/containers/",
        "",
    };
    for (size_t i = 0; i < sizeof not_k8s / sizeof not_k8s[0]; i++) {
        struct ll_k8s_names n = {LL_STR("unset"), LL_STR("unset"), LL_STR("unset")};
        if (ll_k8s_names_from_path(not_k8s[i], &n))
            fail_msg("taken as a container log: %s", not_k8s[i]);
        assert_str(n.pod, "unset");
    }
}

static int setup_cri_cap(void **state)
{
    return setup_with(state, LL_FRAME_CRI, 10);
}

static int setup_docker_cap(void **state)
{
    return setup_with(state, LL_FRAME_DOCKER, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(docker_line_is_unwrapped, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(docker_escapes_are_decoded, setup_docker, teardown),
        cmocka_unit_test_setup_teardown(docker_lone_surrogate_becomes_replacement_character,
                                        setup_docker, teardown),
        cmocka_unit_test_setup_teardown(docker_split_line_is_joined_exactly, setup_auto,
                                        teardown),
        cmocka_unit_test_setup_teardown(docker_crlf_is_stripped, setup_docker, teardown),
        cmocka_unit_test_setup_teardown(docker_keys_in_any_order_with_attrs, setup_docker,
                                        teardown),
        cmocka_unit_test_setup_teardown(docker_stderr_and_stdout_pieces_join_separately,
                                        setup_docker, teardown),
        cmocka_unit_test_setup_teardown(docker_malformed_objects_pass_through_as_mismatch,
                                        setup_docker, teardown),
        cmocka_unit_test_setup_teardown(cri_full_line, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(cri_partial_chunks_are_joined, setup_cri, teardown),
        cmocka_unit_test_setup_teardown(cri_streams_are_joined_separately, setup_cri, teardown),
        cmocka_unit_test_setup_teardown(cri_tagless_old_form_is_a_full_line, setup_cri,
                                        teardown),
        cmocka_unit_test_setup_teardown(cri_time_with_offset, setup_cri, teardown),
        cmocka_unit_test_setup_teardown(cri_malformed_lines_pass_through_as_mismatch, setup_cri,
                                        teardown),
        cmocka_unit_test_setup_teardown(auto_detects_docker_and_sticks, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(auto_detects_docker_by_stream_key, setup_auto,
                                        teardown),
        cmocka_unit_test_setup_teardown(auto_detects_a_split_first_line, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(auto_detects_cri_and_sticks, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(auto_detects_plain_and_sticks, setup_auto, teardown),
        cmocka_unit_test(auto_plain_for_look_alikes),
        cmocka_unit_test_setup_teardown(too_long_cri_line_is_cut_and_the_next_is_intact,
                                        setup_cri_cap, teardown),
        cmocka_unit_test_setup_teardown(too_long_docker_line_is_cut_at_a_character,
                                        setup_docker_cap, teardown),
        cmocka_unit_test(too_long_plain_and_mismatched_lines_are_cut),
        cmocka_unit_test_setup_teardown(flush_hands_out_held_partials_oldest_first, setup_cri,
                                        teardown),
        cmocka_unit_test_setup_teardown(flush_of_a_docker_partial, setup_docker, teardown),
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(k8s_names_from_container_log_paths),
        cmocka_unit_test(k8s_names_reject_other_files),
        cmocka_unit_test(k8s_names_from_pod_log_paths),
        cmocka_unit_test_setup_teardown(kubectl_timestamps_are_unwrapped, setup_auto, teardown),
        cmocka_unit_test_setup_teardown(a_timed_text_log_stays_plain, setup_auto, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
