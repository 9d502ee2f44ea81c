/* The PostgreSQL driver: alerts and timelines into tables of the "logloom"
 * schema, one statement (one implicit transaction) per batch.
 *
 * A batch travels as two bound parameters, a JSON array of alert records
 * and one of timeline records (the JSON lines contract); the server turns
 * them into rows with jsonb_to_record and upserts them. No SQL is ever built
 * from log text. An id seen again updates its row (count, last_seen, ...),
 * so a batch written twice, after a reconnect or a restart, never
 * duplicates. The schema is created and migrated on connect, under an
 * advisory lock so that logloom processes starting together take turns. */
#include "delivery_int.h"
#include "sink_int.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key: "logloom" in ASCII. */
#define MIGRATION_LOCK "7236388094307693"

struct migration {
    const char *description;
    const char *sql;
};

static const struct migration migrations[] = {
    {"alerts, timelines and the views on them",
     "CREATE TABLE logloom.alerts ("
     " id text PRIMARY KEY,"
     " rule text NOT NULL,"
     " symptom text NOT NULL,"
     " playbook text,"
     " severity text NOT NULL,"
     " correlation_id text,"
     " service text,"
     " first_seen timestamptz NOT NULL,"
     " last_seen timestamptz NOT NULL,"
     " count bigint NOT NULL,"
     " title text NOT NULL,"
     " summary text,"
     " evidence jsonb NOT NULL DEFAULT '[]',"
     " remediation text,"
     " timeline_id text,"
     " acknowledged_at timestamptz," /* set by people; NULL: open */
     " created_at timestamptz NOT NULL DEFAULT now(),"
     " updated_at timestamptz NOT NULL DEFAULT now());"
     "CREATE INDEX alerts_correlation_id ON logloom.alerts (correlation_id);"
     "CREATE INDEX alerts_symptom_time ON logloom.alerts (symptom, first_seen DESC);"
     "CREATE INDEX alerts_open ON logloom.alerts (last_seen DESC) WHERE acknowledged_at IS NULL;"
     "CREATE INDEX alerts_timeline ON logloom.alerts (timeline_id);"
     "CREATE TABLE logloom.timelines ("
     " id text PRIMARY KEY,"
     " correlation_id text NOT NULL,"
     " started timestamptz NOT NULL,"
     " ended timestamptz NOT NULL,"
     " duration interval NOT NULL,"
     " status text NOT NULL,"
     " reason text NOT NULL,"
     " services text[] NOT NULL,"
     " hops jsonb NOT NULL,"
     " event_count bigint NOT NULL,"
     " error_count bigint NOT NULL,"
     " linked bigint NOT NULL DEFAULT 0,"
     " alert_ids text[] NOT NULL DEFAULT '{}',"
     " summary jsonb NOT NULL,"
     " created_at timestamptz NOT NULL DEFAULT now(),"
     " updated_at timestamptz NOT NULL DEFAULT now());"
     "CREATE INDEX timelines_correlation_id ON logloom.timelines (correlation_id);"
     "CREATE INDEX timelines_started ON logloom.timelines (started DESC);"
     "CREATE INDEX timelines_not_ok ON logloom.timelines (started DESC) WHERE status <> 'ok';"
     /* What is open, newest first. */
     "CREATE VIEW logloom.open_alerts AS"
     " SELECT id, severity, symptom, playbook, title, summary, service, correlation_id,"
     "  first_seen, last_seen, count, timeline_id"
     " FROM logloom.alerts WHERE acknowledged_at IS NULL ORDER BY last_seen DESC;"
     /* How often each symptom struck, per hour of event time. */
     "CREATE VIEW logloom.symptoms_by_hour AS"
     " SELECT date_trunc('hour', first_seen) AS hour, symptom, playbook,"
     "  count(*) AS alerts, sum(count) AS occurrences, array_agg(DISTINCT service) AS services"
     " FROM logloom.alerts GROUP BY 1, 2, 3;"
     /* A workflow with what went wrong in it. */
     "CREATE VIEW logloom.workflow_alerts AS"
     " SELECT t.correlation_id, t.id AS timeline_id, t.status, t.started, t.duration,"
     "  t.services, a.id AS alert_id, a.severity, a.symptom, a.playbook, a.title, a.summary,"
     "  a.first_seen"
     " FROM logloom.timelines t JOIN logloom.alerts a ON a.timeline_id = t.id;"},
    {"the workflows a service-level alert affected",
     "ALTER TABLE logloom.alerts ADD COLUMN affected text[] NOT NULL DEFAULT '{}';"
     "CREATE INDEX alerts_affected ON logloom.alerts USING gin (affected);"},
};

/* $1: alert records, $2: timeline records, both JSON arrays. */
static const char write_sql[] =
    "WITH a AS ("
    " INSERT INTO logloom.alerts AS x (id, rule, symptom, playbook, severity, correlation_id,"
    "  service, first_seen, last_seen, count, title, summary, evidence, remediation, timeline_id,"
    "  affected)"
    " SELECT r.id, r.rule, r.symptom, r.playbook, r.severity, r.correlation_id, r.service,"
    "  r.first_seen, r.last_seen, r.count, r.title, r.summary, coalesce(r.evidence, '[]'),"
    "  r.remediation, r.timeline_id, coalesce(r.affected, '{}')"
    " FROM json_to_recordset($1::json) AS r("
    "  id text, rule text, symptom text, playbook text, severity text, correlation_id text,"
    "  service text, first_seen timestamptz, last_seen timestamptz, count bigint, title text,"
    "  summary text, evidence jsonb, remediation text, timeline_id text, affected text[])"
    " ON CONFLICT (id) DO UPDATE SET"
    "  count = greatest(x.count, excluded.count),"
    "  first_seen = least(x.first_seen, excluded.first_seen),"
    "  last_seen = greatest(x.last_seen, excluded.last_seen),"
    "  evidence = CASE WHEN excluded.count > x.count THEN excluded.evidence ELSE x.evidence END,"
    "  affected = CASE WHEN excluded.count > x.count THEN excluded.affected ELSE x.affected END,"
    "  summary = excluded.summary,"
    "  timeline_id = coalesce(excluded.timeline_id, x.timeline_id),"
    "  updated_at = now()"
    " RETURNING 1),"
    "t AS ("
    " INSERT INTO logloom.timelines AS x (id, correlation_id, started, ended, duration, status,"
    "  reason, services, hops, event_count, error_count, linked, alert_ids, summary)"
    " SELECT r.id, r.correlation_id, r.start, r.\"end\","
    "  make_interval(secs => r.duration_ms / 1000.0), r.status, r.reason, r.services, r.hops,"
    "  r.events, r.errors, coalesce(r.linked, 0), coalesce(r.alerts, '{}'), e.rec"
    " FROM jsonb_array_elements($2::jsonb) AS e(rec), jsonb_to_record(e.rec) AS r("
    "  id text, correlation_id text, start timestamptz, \"end\" timestamptz, duration_ms bigint,"
    "  status text, reason text, services text[], hops jsonb, events bigint, errors bigint,"
    "  linked bigint, alerts text[])"
    " ON CONFLICT (id) DO UPDATE SET"
    "  started = least(x.started, excluded.started),"
    "  ended = greatest(x.ended, excluded.ended),"
    "  duration = excluded.duration, status = excluded.status, reason = excluded.reason,"
    "  services = excluded.services, hops = excluded.hops,"
    "  event_count = excluded.event_count, error_count = excluded.error_count,"
    "  linked = excluded.linked, alert_ids = excluded.alert_ids, summary = excluded.summary,"
    "  updated_at = now()"
    " RETURNING 1)"
    "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM t)";

struct pg {
    const struct ll_delivery_conf *conf;
    PGconn *conn;
    struct ll_buf alerts, timelines; /* the batch's two parameters */
};

/* The first line of a libpq message, without "FATAL:  " and the like. */
static void first_line(const char *msg, char *err, size_t errsz)
{
    static const char *const levels[] = {"FATAL:  ", "ERROR:  "};
    if (!msg || !*msg)
        msg = "unknown error";
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strncmp(msg, levels[i], strlen(levels[i])) == 0)
            msg += strlen(levels[i]);
    snprintf(err, errsz, "%.*s", (int)strcspn(msg, "\n"), msg);
}

/* libpq's complaint about a connection string it cannot parse, with what
 * it quotes of the string ("invalid percent-encoded token: "<password>"",
 * or the whole URI) left out: it may be the password. Single characters
 * (what the syntax expected) are kept. */
static void parse_error(const char *msg, char *err, size_t errsz)
{
    char line[512];
    first_line(msg, line, sizeof line);
    struct ll_buf b = {0};
    for (const char *p = line; *p;) {
        const char *q = strchr(p, '"'), *end = q ? strchr(q + 1, '"') : NULL;
        if (!end) {
            ll_buf_puts(&b, p);
            break;
        }
        ll_buf_append(&b, p, (size_t)(q - p));
        if (end - q == 2) /* one character: syntax ("]", "="), kept */
            ll_buf_append(&b, q, 3);
        else
            ll_buf_puts(&b, "\"***\"");
        p = end + 1;
    }
    snprintf(err, errsz, "%s", b.data ? b.data : "");
    ll_buf_free(&b);
}

static int pg_open(const struct ll_delivery_conf *c, void **out, char *err, size_t errsz)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(c->url, &msg);
    if (!opts) {
        parse_error(msg ? msg : "out of memory", err, errsz);
        PQfreemem(msg);
        return LL_EINVAL;
    }
    PQconninfoFree(opts);
    struct pg *p = ll_calloc(1, sizeof *p);
    p->conf = c;
    *out = p;
    return LL_OK;
}

/* Connection failures that waiting will not fix. */
static bool config_error(const char *msg)
{
    static const char *const fatal[] = {
        "password authentication failed", "authentication failed", "no password supplied",
        "does not exist", "pg_hba.conf", "invalid connection option", "invalid URI",
        "permission denied", "SSL is not enabled", "server does not support SSL",
    };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (strstr(msg, fatal[i]))
            return true;
    return false;
}

/* Runs @p sql; false with the message in @p err on failure. */
static bool exec_ok(PGconn *conn, const char *sql, char *err, size_t errsz, char state[6])
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(state, 6, "%s", code ? code : "");
        first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(conn), err, errsz);
    }
    PQclear(r);
    return ok;
}

/* Creates or brings up to date the schema; one process at a time. */
static bool migrate(PGconn *conn, char *err, size_t errsz, char state[6])
{
    if (!exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", err, errsz, state))
        return false;
    bool ok = exec_ok(conn,
                      "CREATE SCHEMA IF NOT EXISTS logloom;"
                      "CREATE TABLE IF NOT EXISTS logloom.schema_migrations ("
                      " version int PRIMARY KEY, description text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      err, errsz, state);
    int have = 0;
    if (ok) {
        PGresult *r = PQexec(conn, "SELECT coalesce(max(version), 0) FROM logloom.schema_migrations");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (ok)
            have = atoi(PQgetvalue(r, 0, 0));
        else
            first_line(PQresultErrorMessage(r), err, errsz);
        PQclear(r);
    }
    int want = (int)(sizeof migrations / sizeof migrations[0]);
    for (int v = have + 1; ok && v <= want; v++) {
        struct ll_buf b = {0};
        ll_buf_printf(&b, "BEGIN;%s;INSERT INTO logloom.schema_migrations (version, description) "
                          "VALUES (%d, '%s');COMMIT",
                      migrations[v - 1].sql, v, migrations[v - 1].description);
        ok = exec_ok(conn, b.data, err, errsz, state);
        ll_buf_free(&b);
        if (!ok)
            PQclear(PQexec(conn, "ROLLBACK"));
        else
            ll_log(LL_LEVEL_INFO, "sink", "postgres: schema migrated to version %d (%s)", v,
                   migrations[v - 1].description);
    }
    char ignored[6], e2[8];
    exec_ok(conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", e2, sizeof e2, ignored);
    return ok;
}

static void quiet(void *ctx, const char *message)
{
    (void)ctx;
    (void)message;
}

static int pg_connect(void *v, char *err, size_t errsz)
{
    struct pg *p = v;
    char timeout[24];
    long long secs = p->conf->connect_timeout_ns / LL_NS_PER_SEC;
    snprintf(timeout, sizeof timeout, "%lld", secs < 2 ? 2 : secs > 30 ? 30 : secs);
    /* The user's string comes last, so what it says wins. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {timeout, "logloom", p->conf->url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    char state[6] = "";
    if (PQstatus(p->conn) != CONNECTION_OK) {
        first_line(PQerrorMessage(p->conn), err, errsz);
        PQfinish(p->conn);
        p->conn = NULL;
        return config_error(err) ? LL_EINVAL : LL_EAGAIN;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL); /* "already exists, skipping" */
    bool ok = migrate(p->conn, err, errsz, state) &&
              exec_ok(p->conn, "SET synchronous_commit = on", err, errsz, state);
    if (ok) {
        PGresult *r = PQprepare(p->conn, "ll_write", write_sql, 2, NULL);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            snprintf(state, sizeof state, "%s", code ? code : "");
            first_line(PQresultErrorMessage(r), err, errsz);
        }
        PQclear(r);
    }
    if (ok && PQsetnonblocking(p->conn, 1) != 0) {
        first_line(PQerrorMessage(p->conn), err, errsz);
        ok = false;
    }
    if (!ok) {
        bool bad_conn = PQstatus(p->conn) != CONNECTION_OK;
        PQfinish(p->conn);
        p->conn = NULL;
        /* Privileges (class 42) will not change by waiting. */
        return !bad_conn && strncmp(state, "42", 2) == 0 ? LL_EINVAL : LL_EAGAIN;
    }
    return LL_OK;
}

/* Appends @p json with every escaped NUL (\u0000) turned into U+FFFD:
 * PostgreSQL's jsonb and text cannot hold NUL. */
static void append_json(struct ll_buf *b, struct ll_str json)
{
    const char *p = json.ptr, *end = p + json.len, *run = p;
    while (p < end) {
        if (*p != '\\') {
            p++;
            continue;
        }
        if (p + 6 <= end && memcmp(p, "\\u0000", 6) == 0) {
            ll_buf_append(b, run, (size_t)(p - run));
            ll_buf_append(b, "\\ufffd", 6);
            p += 6;
            run = p;
            continue;
        }
        p += p + 1 < end && p[1] == 'u' ? 6 : 2;
    }
    ll_buf_append(b, run, (size_t)(end - run));
}

/* Fills the two parameters with @p recs; a record whose id comes again
 * later in the batch is left to that later one (a statement may not touch
 * a row twice). */
static void build(struct pg *p, struct ll__rec *const *recs, size_t n)
{
    ll_buf_reset(&p->alerts);
    ll_buf_reset(&p->timelines);
    ll_buf_putc(&p->alerts, '[');
    ll_buf_putc(&p->timelines, '[');
    for (size_t i = 0; i < n; i++) {
        bool later = false;
        for (size_t k = i + 1; k < n && !later; k++)
            later = recs[k]->kind == recs[i]->kind && memcmp(recs[k]->id, recs[i]->id, 16) == 0;
        if (later)
            continue;
        struct ll_buf *b = recs[i]->kind == LL_RECEIVE_ALERTS ? &p->alerts : &p->timelines;
        if (b->len > 1)
            ll_buf_putc(b, ',');
        append_json(b, recs[i]->json);
    }
    ll_buf_putc(&p->alerts, ']');
    ll_buf_putc(&p->timelines, ']');
}

/* Sends the prepared statement and waits for its result within the I/O
 * timeout. @returns the result (caller clears), or NULL on a broken or
 * silent connection with the reason in @p err. */
static PGresult *run_write(struct pg *p, char *err, size_t errsz)
{
    const char *params[2] = {p->alerts.data, p->timelines.data};
    int64_t timeout = p->conf->io_timeout_ns;
    if (!PQsendQueryPrepared(p->conn, "ll_write", 2, params, NULL, NULL, 0)) {
        first_line(PQerrorMessage(p->conn), err, errsz);
        return NULL;
    }
    int f;
    while ((f = PQflush(p->conn)) == 1)
        if (ll__wait_fd(PQsocket(p->conn), true, timeout) != 1) {
            snprintf(err, errsz, "no progress sending a batch for %.0fs", (double)timeout / 1e9);
            return NULL;
        }
    if (f < 0) {
        first_line(PQerrorMessage(p->conn), err, errsz);
        return NULL;
    }
    while (PQisBusy(p->conn)) {
        int w = ll__wait_fd(PQsocket(p->conn), false, timeout);
        if (w != 1) {
            snprintf(err, errsz, "no answer for %.0fs", (double)timeout / 1e9);
            return NULL;
        }
        if (!PQconsumeInput(p->conn)) {
            first_line(PQerrorMessage(p->conn), err, errsz);
            return NULL;
        }
    }
    PGresult *res = PQgetResult(p->conn), *extra;
    while ((extra = PQgetResult(p->conn)))
        PQclear(extra);
    if (!res)
        first_line(PQerrorMessage(p->conn), err, errsz);
    return res;
}

/* What a failed statement means for the batch. */
static enum ll__wr classify(const struct pg *p, PGresult *res, char *err, size_t errsz)
{
    if (!res) /* run_write() said why */
        return WR_OUTAGE;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        const char *why = PQresultErrorMessage(res);
        first_line(why && *why ? why : PQerrorMessage(p->conn), err, errsz);
        return WR_OUTAGE;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    first_line(PQresultErrorMessage(res), err, errsz);
    if (!state)
        return WR_OUTAGE;
    size_t len = strlen(err);
    snprintf(err + len, errsz - len, " (SQLSTATE %s)", state);
    if (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)
        return WR_RETRY;
    /* Connection trouble, shutdown, no resources (53300 too many
     * connections), system errors: the server cannot take work now. */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
        strncmp(state, "53", 2) == 0 || strncmp(state, "58", 2) == 0)
        return WR_OUTAGE;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return WR_REJECT;
    return WR_RETRY;
}

static enum ll__wr write_once(struct pg *p, struct ll__rec *const *recs, size_t n, char *err,
                              size_t errsz)
{
    build(p, recs, n);
    PGresult *res = run_write(p, err, errsz);
    enum ll__wr wr = res && PQresultStatus(res) == PGRES_TUPLES_OK ? WR_OK
                                                                   : classify(p, res, err, errsz);
    PQclear(res);
    return wr;
}

static enum ll__wr pg_write(void *v, struct ll__rec *const *recs, size_t n, size_t *bad,
                            char *err, size_t errsz)
{
    struct pg *p = v;
    enum ll__wr wr = write_once(p, recs, n, err, errsz);
    if (wr != WR_REJECT)
        return wr;
    /* One record's data is refused: find it, one record at a time (each
     * write is idempotent, so those before it may well be written). */
    for (size_t i = 0; i < n; i++) {
        wr = write_once(p, recs + i, 1, err, errsz);
        if (wr == WR_REJECT)
            *bad = i;
        if (wr != WR_OK)
            return wr;
    }
    return WR_OK;
}

static void pg_disconnect(void *v)
{
    struct pg *p = v;
    PQfinish(p->conn);
    p->conn = NULL;
}

static void pg_destroy(void *v)
{
    struct pg *p = v;
    PQfinish(p->conn);
    ll_buf_free(&p->alerts);
    ll_buf_free(&p->timelines);
    ll_free(p);
}

const struct ll__driver_ops ll__pg_ops = {"postgres", pg_open, pg_connect, pg_write, pg_disconnect,
                                          pg_destroy};
