/* Private to ingest/: a scanner for the common log line, one JSON object,
 * that calls yajl's callbacks as yajl_parse() would.
 *
 * yajl's lexer is half of a line's cost, and most of it is generality a
 * log line does not use: chunked input, a token buffer, a parser state per
 * token. This scanner takes the whole line at once and knows only the
 * common shape. Whatever it is not sure of, it leaves to yajl: it returns
 * false, and the caller parses the line again with yajl from its first
 * byte, so yajl remains the parser of record for every error and every
 * rare form. It gives up on
 *   - anything but one object, whitespace around it allowed;
 *   - \u escapes, whitespace other than space, tab, CR and LF;
 *   - nesting deeper than 64;
 *   - a string whose bytes are not strict UTF-8 (ll_utf8_valid()), so a
 *     line it accepts needs no other UTF-8 check;
 *   - a callback that returns 0;
 *   - and anything yajl would reject.
 * On a line it accepts, the callbacks see the same calls, in the same
 * order, with the same bytes as from yajl_parse() and
 * yajl_complete_parse(). Strings without escapes point into the line;
 * escaped ones into @p scratch, valid until the callback returns. Only
 * yajl_null, _boolean, _number (never _integer or _double), _string,
 * _start_map, _map_key, _end_map, _start_array and _end_array are
 * called, and every one must be set. */
#ifndef LOGLOOM_INGEST_JSON_SCAN_H
#define LOGLOOM_INGEST_JSON_SCAN_H

#include "logloom/core.h"

#include <stdbool.h>
#include <yajl/yajl_parse.h>

bool ll__json_scan(const char *line, size_t len, const yajl_callbacks *cb, void *ctx,
                   struct ll_buf *scratch);

#endif
