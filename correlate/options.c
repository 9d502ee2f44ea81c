/* The correlation section's options, as the correlator reads them: the
 * configuration file's reader, `logloom config options` and the README's
 * table are written from this table. */
#include "logloom/correlate.h"

#define F(field, kind, name, def, help)                                                        \
    LL_CONF_NUM(struct ll_corr_conf, field, kind, name, def, help)

const struct ll_conf_field ll_corr_fields[] = {
    F(session_gap_ns, LL_CONF_DURATION, "session_gap", LL_CORR_SESSION_GAP_NS,
      "a workflow closes after this much event-time silence"),
    F(allowed_lateness_ns, LL_CONF_DURATION, "allowed_lateness", LL_CORR_ALLOWED_LATENESS_NS,
      "how far events may arrive out of order; the watermark trails the slowest source by "
      "this"),
    F(idle_timeout_ns, LL_CONF_DURATION, "idle_timeout", LL_CORR_IDLE_TIMEOUT_NS,
      "a source silent this long stops holding the watermark back"),
    F(max_span_ns, LL_CONF_DURATION, "max_span", LL_CORR_MAX_SPAN_NS,
      "a workflow this long is cut (reason max_span)"),
    F(max_events, LL_CONF_COUNT, "max_events", LL_CORR_MAX_EVENTS,
      "a workflow with this many events is cut (reason max_events)"),
    F(max_events_kept, LL_CONF_COUNT, "max_events_kept", LL_CORR_MAX_EVENTS_KEPT,
      "events kept per workflow: the first and the last halves"),
    F(max_open_timelines, LL_CONF_COUNT, "max_open", LL_CORR_MAX_OPEN,
      "open workflows before the least recently active is closed (reason evicted)"),
};

const size_t ll_corr_n_fields = sizeof ll_corr_fields / sizeof ll_corr_fields[0];
