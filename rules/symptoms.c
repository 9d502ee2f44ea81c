/* The symptom vocabulary: every id an alert may carry, with its playbook
 * section. Rule packs may add rules for these; the ids never change. */
#include "logloom/rules.h"

static const struct ll_symptom symptoms[] = {
    {"spawn-einval", "1.1", "child process spawn rejected its arguments (EINVAL)"},
    {"spawn-enoent", "1.1", "child process executable not found (ENOENT)"},
    {"spawn-eacces", "1.1", "child process executable not permitted (EACCES)"},
    {"zombie-child", "1.1", "child process left running after its parent stopped"},
    {"fetch-undefined", "2.1", "fetch is not defined: Node.js older than 18"},
    {"request-timeout", "2.2", "outgoing request timed out or was aborted"},
    {"econnreset", "2.2", "connection reset by peer"},
    {"econnrefused", "2.2", "connection refused"},
    {"enotfound", "2.2", "host name did not resolve"},
    {"tls-untrusted", "2.2", "TLS certificate not trusted"},
    {"ws-ghost-agent", "3.1", "agent WebSocket closed and never reconnected"},
    {"correlation-lost", "4.1", "workflow hops logged without the correlation id"},
    {"pg-too-many-connections", "5.1", "PostgreSQL refused a connection: too many clients"},
    {"pg-pool-leak", "5.1", "connection pool exhausted: clients not released"},
    {"pg-deadlock", "5.1", "PostgreSQL aborted a transaction: deadlock detected (40P01)"},
    {"oom-killed", "6.1", "process killed by the kernel OOM killer (exit 137, SIGKILL)"},
    {"heap-oom", "6.1", "JavaScript heap out of memory"},
};

const struct ll_symptom *ll_symptom_find(struct ll_str id)
{
    for (size_t i = 0; i < sizeof symptoms / sizeof symptoms[0]; i++)
        if (ll_str_eq(id, ll_str_c(symptoms[i].id)))
            return &symptoms[i];
    return NULL;
}

const struct ll_symptom *ll_symptoms(size_t *n)
{
    *n = sizeof symptoms / sizeof symptoms[0];
    return symptoms;
}
