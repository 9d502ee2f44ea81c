/* Line framing: line endings, over-long lines, tiny reads, gzip. */
#include "../testutil.h"

#include "logloom/ingest.h"

struct got {
    char text[64][64];
    uint64_t offset[64];
    uint64_t full_len[64];
    uint32_t flags[64];
    int n;
    int rc; /* what the last fill returned */
};

/* Reads every line of @p path with the given limits. */
static void read_all(const char *path, size_t max_line, size_t chunk, struct got *g)
{
    ll_reader *r;
    char err[256];
    memset(g, 0, sizeof *g);
    assert_int_equal(ll_reader_open(path, max_line, chunk, &r, err, sizeof err), LL_OK);
    for (;;) {
        struct ll_line line;
        int rc = ll_reader_next(r, &line);
        if (rc == LL_OK) {
            assert_true(g->n < 64);
            snprintf(g->text[g->n], sizeof g->text[0], "%.*s", (int)line.len, line.ptr);
            g->offset[g->n] = line.offset;
            g->full_len[g->n] = line.full_len;
            g->flags[g->n++] = line.flags;
            continue;
        }
        assert_int_equal(rc, LL_EAGAIN);
        g->rc = ll_reader_fill(r);
        if (g->rc != LL_OK && g->rc != LL_EAGAIN) {
            /* Drain what a failed fill left readable, then stop. */
            while (ll_reader_next(r, &line) == LL_OK) {
                snprintf(g->text[g->n], sizeof g->text[0], "%.*s", (int)line.len, line.ptr);
                g->flags[g->n++] = line.flags;
            }
            break;
        }
    }
    ll_reader_close(r);
}

static int setup(void **state)
{
    *state = make_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    rm_tree(*state);
    free(*state);
    return 0;
}

static void crlf_and_missing_final_newline(void **state)
{
    char *p = write_text(*state, "a.log", "one\r\ntwo\n\nthree");
    struct got g;
    read_all(p, 1024, 0, &g);
    assert_int_equal(g.rc, LL_EOF);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.text[0], "one");
    assert_true(g.flags[0] & LL_LINE_CRLF);
    assert_string_equal(g.text[1], "two");
    assert_int_equal(g.offset[1], 5);
    assert_string_equal(g.text[2], "");
    assert_string_equal(g.text[3], "three");
    assert_int_equal(g.offset[3], 10);
    assert_true(g.flags[3] & LL_LINE_NO_NEWLINE);
    free(p);
}

static void lines_split_across_small_reads(void **state)
{
    struct ll_buf b = {0};
    for (int i = 0; i < 40; i++)
        ll_buf_printf(&b, "line-%02d-%.*s\n", i, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    char *p = write_text(*state, "b.log", b.data);
    struct got g;
    read_all(p, 64, 7, &g); /* 7-byte reads: almost every line spans reads */
    assert_int_equal(g.n, 40);
    uint64_t off = 0;
    for (int i = 0; i < 40; i++) {
        char want[64];
        snprintf(want, sizeof want, "line-%02d-%.*s", i, i, b.data + 8);
        assert_memory_equal(g.text[i], want, 8);
        assert_int_equal(strlen(g.text[i]), 8 + (size_t)i);
        assert_int_equal(g.offset[i], off);
        off += 9 + (uint64_t)i;
    }
    ll_buf_free(&b);
    free(p);
}

static void too_long_line_is_reported_once_and_skipped(void **state)
{
    struct ll_buf b = {0};
    ll_buf_puts(&b, "short\n");
    for (int i = 0; i < 5000; i++)
        ll_buf_putc(&b, 'L');
    ll_buf_puts(&b, "\nafter\n");
    for (int i = 0; i < 3000; i++)
        ll_buf_putc(&b, 'T'); /* too long and unterminated at the end */
    char *p = write_text(*state, "c.log", b.data);
    struct got g;
    read_all(p, 100, 64, &g);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.text[0], "short");
    assert_true(g.flags[1] & LL_LINE_TOO_LONG);
    assert_int_equal(g.offset[1], 6);
    assert_int_equal(g.full_len[1], 5000);
    assert_memory_equal(g.text[1], "LLLLLLLL", 8); /* a prefix is kept */
    assert_string_equal(g.text[2], "after");
    assert_int_equal(g.offset[2], 5007);
    assert_true(g.flags[3] & LL_LINE_TOO_LONG);
    assert_true(g.flags[3] & LL_LINE_NO_NEWLINE);
    assert_int_equal(g.full_len[3], 3000);
    ll_buf_free(&b);
    free(p);
}

static void line_of_exactly_max_is_accepted(void **state)
{
    char line[102];
    memset(line, 'x', 100);
    line[100] = '\n';
    line[101] = '\0';
    char *p = write_text(*state, "d.log", line);
    struct got g;
    read_all(p, 100, 16, &g);
    assert_int_equal(g.n, 1);
    assert_false(g.flags[0] & LL_LINE_TOO_LONG);
    free(p);
}

static void gzip_is_detected_by_magic(void **state)
{
    const char *text = "{\"a\":1}\n{\"b\":2}\n";
    char *p = write_gz(*state, "e.log.gz", text, strlen(text));
    char *q = write_gz(*state, "e-no-suffix", text, strlen(text));
    struct got g;
    read_all(p, 1024, 0, &g);
    assert_int_equal(g.rc, LL_EOF);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "{\"b\":2}");
    assert_int_equal(g.offset[1], 8); /* offsets are in decompressed bytes */
    read_all(q, 1024, 0, &g);
    assert_int_equal(g.n, 2);
    free(p);
    free(q);
}

static void truncated_gzip_keeps_what_was_decoded(void **state)
{
    struct ll_buf b = {0};
    for (int i = 0; i < 2000; i++)
        ll_buf_printf(&b, "{\"n\":%d,\"msg\":\"line number %d of a log\"}\n", i, i);
    char *p = write_gz(*state, "f.log.gz", b.data, b.len);
    size_t len;
    char *gz = read_file(p, &len);
    char *cut = write_file(*state, "f-cut.log.gz", gz, len / 2);
    ll_reader *r;
    char err[256];
    assert_int_equal(ll_reader_open(cut, 1024, 4096, &r, err, sizeof err), LL_OK);
    int lines = 0, rc;
    struct ll_line line;
    for (;;) {
        while (ll_reader_next(r, &line) == LL_OK)
            lines++;
        rc = ll_reader_fill(r);
        if (rc != LL_OK)
            break;
    }
    assert_int_equal(rc, LL_ECORRUPT);
    assert_non_null(strstr(ll_reader_error(r), "gzip"));
    assert_true(lines > 100);
    assert_true(lines < 2000);
    ll_reader_close(r);
    ll_buf_free(&b);
    free(gz);
    free(cut);
    free(p);
}

/* Reads @p path to its end or first error, inflating ahead if @p ahead;
 * @returns the lines, with a hash of their text and offsets, what the last
 * fill returned, its error and the compressed position at the end. */
struct summary {
    int lines, rc;
    uint64_t hash, raw_pos;
    char err[256];
};

static struct summary summarise(const char *path, size_t chunk, bool ahead)
{
    struct summary s = {0};
    ll_reader *r;
    char err[256];
    assert_int_equal(ll_reader_open(path, 1024, chunk, &r, err, sizeof err), LL_OK);
    if (ahead)
        assert_true(ll_reader_prefetch(r));
    for (;;) {
        struct ll_line line;
        while (ll_reader_next(r, &line) == LL_OK) {
            s.lines++;
            s.hash = ll_hash64(line.ptr, line.len, s.hash) * 31 + line.offset;
        }
        s.rc = ll_reader_fill(r);
        if (s.rc != LL_OK)
            break;
    }
    s.raw_pos = ll_reader_raw_pos(r);
    snprintf(s.err, sizeof s.err, "%s", ll_reader_error(r));
    ll_reader_close(r);
    return s;
}

static void gzip_inflated_ahead_reads_the_same(void **state)
{
    /* Several times the ring ahead (1 MiB), so it goes round. */
    struct ll_buf b = {0};
    for (int i = 0; i < 60000; i++)
        ll_buf_printf(&b, "{\"n\":%d,\"msg\":\"line %d\",\"pad\":\"%0*d\"}\n", i, i * 7919,
                      i % 40, i);
    char *p = write_gz(*state, "h.log.gz", b.data, b.len);
    size_t len;
    char *gz = read_file(p, &len);
    char *cut = write_file(*state, "h-cut.log.gz", gz, len * 2 / 3);
    char *plain = write_file(*state, "h.log", b.data, b.len);
    for (size_t chunk = 4096; chunk <= ((size_t)1 << 20); chunk *= 16) {
        struct summary inline_ = summarise(p, chunk, false), ahead = summarise(p, chunk, true);
        assert_int_equal(ahead.lines, 60000);
        assert_int_equal(ahead.lines, inline_.lines);
        assert_true(ahead.hash == inline_.hash);
        assert_int_equal(ahead.rc, LL_EOF);
        assert_true(ahead.raw_pos == inline_.raw_pos);
        assert_true(ahead.raw_pos == len);
        /* Cut short: the same lines, then the same error. */
        inline_ = summarise(cut, chunk, false);
        ahead = summarise(cut, chunk, true);
        assert_int_equal(ahead.rc, LL_ECORRUPT);
        assert_int_equal(ahead.rc, inline_.rc);
        assert_true(ahead.lines > 1000 && ahead.lines < 60000);
        assert_int_equal(ahead.lines, inline_.lines);
        assert_true(ahead.hash == inline_.hash);
        assert_string_equal(ahead.err, inline_.err);
    }
    /* A plain file is read as it is. */
    ll_reader *r;
    char err[256];
    assert_int_equal(ll_reader_open(plain, 1024, 0, &r, err, sizeof err), LL_OK);
    assert_false(ll_reader_prefetch(r));
    ll_reader_close(r);
    /* Closed before the end: the inflating thread stops. */
    assert_int_equal(ll_reader_open(p, 1024, 0, &r, err, sizeof err), LL_OK);
    assert_true(ll_reader_prefetch(r));
    assert_int_equal(ll_reader_fill(r), LL_OK);
    ll_reader_close(r);
    ll_buf_free(&b);
    free(gz);
    free(cut);
    free(plain);
    free(p);
}

static void empty_file_and_missing_file(void **state)
{
    char *p = write_text(*state, "g.log", "");
    struct got g;
    read_all(p, 1024, 0, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.rc, LL_EOF);
    ll_reader *r;
    char err[256];
    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope.log", (char *)*state);
    assert_int_equal(ll_reader_open(missing, 1024, 0, &r, err, sizeof err), LL_ENOENT);
    assert_non_null(strstr(err, "nope.log"));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crlf_and_missing_final_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_split_across_small_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(too_long_line_is_reported_once_and_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(line_of_exactly_max_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_is_detected_by_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_gzip_keeps_what_was_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(gzip_inflated_ahead_reads_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_file_and_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
