/* Names and small helpers for the records modules exchange. */
#include "logloom/core.h"

bool ll_event_is_error(const struct ll_event *ev)
{
    return ev->level >= LL_LEVEL_ERROR || (ev->flags & LL_EV_HAS_ERR);
}

const char *ll_tl_status_name(enum ll_tl_status s)
{
    switch (s) {
    case LL_TL_OK: return "ok";
    case LL_TL_FAILED: return "failed";
    case LL_TL_INCOMPLETE: return "incomplete";
    case LL_TL_TRUNCATED: return "truncated";
    }
    return "unknown";
}

const char *ll_tl_reason_name(enum ll_tl_reason r)
{
    switch (r) {
    case LL_TL_CLOSED_GAP: return "gap";
    case LL_TL_CLOSED_END: return "end";
    case LL_TL_CLOSED_TERMINAL: return "terminal";
    case LL_TL_CLOSED_SPAN: return "max_span";
    case LL_TL_CLOSED_EVENTS: return "max_events";
    case LL_TL_CLOSED_EVICTED: return "evicted";
    }
    return "unknown";
}

const char *ll_reject_name(enum ll_reject r)
{
    static const char *const names[LL_REJECT__COUNT] = {
        "not_json", "not_object", "invalid_utf8", "too_long", "nul_byte"};
    return (unsigned)r < LL_REJECT__COUNT ? names[r] : "unknown";
}

uint64_t ll_stats_rejected_total(const struct ll_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < LL_REJECT__COUNT; i++)
        n += st->rejected[i];
    return n;
}
