/* The HTML report: one self-contained page per run, for post-mortems.
 *
 * Timelines and late events are copied as JSON records (the JSON lines
 * contract, plus the raw lines the correlator kept) into one buffer; at the
 * end of the run the page is written around them: inline CSS, the records in
 * a <script type="application/json"> element, and a small script that draws
 * the page from them. No external assets and no network: a
 * Content-Security-Policy forbids loading anything, so the file works offline
 * and log text, which is untrusted, can neither fetch nor run anything. The
 * script builds the DOM with textContent only. */
#include "sink_int.h"

#include <assert.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The page                                                                  */

/* From the doctype to the style element. */
static const char page_head[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\"\n"
    "  content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
    "<meta name=\"generator\" content=\"logloom\">\n"
    "<title>logloom post-mortem</title>\n"
    "<style>\n";

/* Styles: a light theme; levels as colours (error red, warn amber). */
static const char page_css[] =
    ":root { --red: #c62828; --amber: #b26a00; --ink: #1f2933; --mute: #66727f;\n"
    "  --line: #d9dee3; --sel: #e3edfb; --accent: #2f6fd0; --link: #7b3fc4; }\n"
    "* { box-sizing: border-box; }\n"
    "body { margin: 0; font: 13px/1.45 system-ui, -apple-system, \"Segoe UI\", sans-serif;\n"
    "  color: var(--ink); background: #f6f7f9; }\n"
    ".mono, td.id, .raw { font-family: ui-monospace, \"DejaVu Sans Mono\", Menlo, monospace; }\n"
    "header { padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }\n"
    "h1 { font-size: 17px; margin: 0 0 8px; font-weight: 600; }\n"
    "h1 small { color: var(--mute); font-weight: 400; margin-left: 8px; font-size: 13px; }\n"
    "h2 { font-size: 14px; margin: 0 0 8px; font-weight: 600; }\n"
    ".totals { display: flex; flex-wrap: wrap; gap: 8px; }\n"
    ".total { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px;\n"
    "  background: #fbfcfd; }\n"
    ".total b { font-size: 15px; margin-right: 4px; }\n"
    ".total.bad b { color: var(--red); }\n"
    ".total .sub { color: var(--mute); margin-left: 4px; }\n"
    ".banner { margin-top: 8px; padding: 6px 10px; background: #fff4e0;\n"
    "  border: 1px solid #f0c36d; border-radius: 6px; }\n"
    "main { display: grid; grid-template-columns: minmax(0, auto) minmax(0, 1fr); gap: 16px;\n"
    "  padding: 16px 20px; align-items: start; }\n"
    "@media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } }\n"
    "section { background: #fff; border: 1px solid var(--line); border-radius: 8px;\n"
    "  padding: 12px 14px; }\n"
    ".side { display: flex; flex-direction: column; gap: 16px; min-width: 0; }\n"
    ".scroll { max-height: 70vh; overflow: auto; }\n"
    ".wide { overflow-x: auto; }\n"
    "table { border-collapse: collapse; width: 100%; }\n"
    "th, td { padding: 4px 8px; text-align: left; white-space: nowrap;\n"
    "  border-bottom: 1px solid #eef0f2; }\n"
    "th { position: sticky; top: 0; background: #fff; color: var(--mute); font-weight: 600;\n"
    "  border-bottom: 1px solid var(--line); }\n"
    ".wf th { cursor: pointer; user-select: none; }\n"
    ".wf th:hover { color: var(--ink); }\n"
    ".wf th[aria-sort=\"ascending\"]::after { content: \" \\25B2\"; font-size: 9px; }\n"
    ".wf th[aria-sort=\"descending\"]::after { content: \" \\25BC\"; font-size: 9px; }\n"
    "td.num, th.num { text-align: right; }\n"
    ".wf tbody tr { cursor: pointer; }\n"
    ".wf tbody tr:hover { background: #f3f6fa; }\n"
    ".wf tbody tr.failed td.id { color: var(--red); }\n"
    ".wf tbody tr.sel { background: var(--sel); box-shadow: inset 3px 0 0 var(--accent); }\n"
    ".wf td.errs { color: var(--red); font-weight: 600; }\n"
    ".pill { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11px;\n"
    "  font-weight: 600; background: #e7ebef; color: #44505c; }\n"
    ".pill.failed { background: #fde2e1; color: var(--red); }\n"
    ".pill.ok { background: #dff3e4; color: #1b6e34; }\n"
    ".pill.incomplete, .pill.truncated { background: #fff1d6; color: var(--amber); }\n"
    ".pill.alert { background: var(--red); color: #fff; }\n"
    ".detail { min-width: 0; }\n"
    ".detail h2 { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }\n"
    ".facts { color: var(--mute); margin-bottom: 10px; }\n"
    ".facts span + span::before { content: \" \\00B7 \"; }\n"
    ".alerts { margin: 8px 0; padding: 6px 10px; border-radius: 6px; color: var(--mute);\n"
    "  border: 1px solid var(--line); }\n"
    ".alerts.some { border-color: var(--red); background: #fdecea; color: var(--red);\n"
    "  font-weight: 600; }\n"
    ".hops { display: flex; flex-wrap: wrap; align-items: center; gap: 4px;\n"
    "  margin: 10px 0 14px; }\n"
    ".hop { border: 1px solid var(--line); border-radius: 6px; padding: 2px 8px;\n"
    "  background: #fbfcfd; }\n"
    ".hop small { color: var(--mute); margin-left: 4px; }\n"
    ".arrow { color: var(--mute); }\n"
    ".lanes { position: relative; margin: 4px 0 8px; }\n"
    ".axis, .lane { display: grid; grid-template-columns: 120px minmax(0, 1fr); }\n"
    ".axis .track { height: 22px; border-bottom: 1px solid var(--line); }\n"
    ".tick { position: absolute; bottom: 0; height: 6px; border-left: 1px solid #9aa5b1; }\n"
    ".tick span { position: absolute; bottom: 7px; left: 0; transform: translateX(-50%);\n"
    "  color: var(--mute); font-size: 11px; white-space: nowrap; }\n"
    ".lane { height: 34px; border-bottom: 1px dashed #e4e7eb; }\n"
    ".lane .name { align-self: center; font-weight: 600; padding-right: 8px;\n"
    "  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }\n"
    ".track { position: relative; margin: 0 10px; }\n"
    ".hoplines { position: absolute; left: 120px; right: 0; top: 22px; bottom: 0;\n"
    "  pointer-events: none; }\n"
    ".mark { --c: #8795a5; position: absolute; top: 8px; width: 6px; height: 18px;\n"
    "  margin-left: -3px; border-radius: 3px; background: var(--c); z-index: 1; }\n"
    ".mark.debug, .mark.trace { --c: #c0c8d0; }\n"
    ".mark.warn { --c: #e59a13; z-index: 2; }\n"
    ".mark.error, .mark.fatal { --c: var(--red); z-index: 3; }\n"
    ".mark.fatal { width: 8px; margin-left: -4px; }\n"
    ".mark.linked { box-shadow: 0 0 0 2px #fff, 0 0 0 4px var(--link); }\n"
    ".mark.inferred { background: #fff; border: 2px solid var(--c); }\n"
    ".mark.late { outline: 2px dashed var(--ink); outline-offset: 1px; }\n"
    ".mark:hover { transform: scaleY(1.25); }\n"
    ".hopline { position: absolute; width: 0; z-index: 0;\n"
    "  border-left: 2px solid rgba(47, 111, 208, .55); }\n"
    ".hopline::after { content: \"\"; position: absolute; left: -6px;\n"
    "  border: 5px solid transparent; }\n"
    ".hopline.down::after { bottom: -4px; border-top: 7px solid rgba(47, 111, 208, .8); }\n"
    ".hopline.up::after { top: -4px; border-bottom: 7px solid rgba(47, 111, 208, .8); }\n"
    ".legend { display: flex; flex-wrap: wrap; gap: 14px; color: var(--mute); font-size: 12px;\n"
    "  margin-bottom: 12px; }\n"
    ".legend .mark { position: relative; display: inline-block; top: 3px; height: 14px;\n"
    "  margin: 0 6px 0 3px; }\n"
    ".events td.msg { white-space: normal; min-width: 160px; }\n"
    ".events tr.error td, .events tr.fatal td { color: var(--red); }\n"
    ".events tr.warn td { color: var(--amber); }\n"
    ".events tr:hover td { background: #f3f6fa; }\n"
    ".events td.t { color: var(--mute); }\n"
    ".note { color: var(--mute); margin: 6px 0; }\n"
    "#ll-tip { position: fixed; z-index: 10; max-width: min(720px, 90vw); pointer-events: none;\n"
    "  background: #1f2933; color: #f5f7fa; border-radius: 6px; padding: 8px 10px;\n"
    "  font-size: 12px; box-shadow: 0 4px 16px rgba(0, 0, 0, .25); display: none; }\n"
    "#ll-tip .raw { margin: 6px 0 0; white-space: pre-wrap; word-break: break-all;\n"
    "  color: #cfe3ff; }\n"
    "#ll-tip .muted { color: #a9b4bf; }\n";

/* The skeleton the script fills (elements with ll- ids). */
static const char page_body[] =
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<header>\n"
    "<h1>logloom post-mortem<small id=\"ll-span\"></small><small>times in UTC</small></h1>\n"
    "<div class=\"totals\" id=\"ll-totals\"></div>\n"
    "</header>\n"
    "<main>\n"
    "<div class=\"side\">\n"
    "<section><h2>Workflows</h2>\n"
    "<div class=\"scroll\"><table class=\"wf\" id=\"ll-workflows\"></table></div></section>\n"
    "<section id=\"ll-orphans\" hidden></section>\n"
    "</div>\n"
    "<section class=\"detail\" id=\"ll-detail\"></section>\n"
    "</main>\n"
    "<div id=\"ll-tip\" role=\"tooltip\"></div>\n"
    "<noscript>This report needs JavaScript; its data is in the ll-data element.</noscript>\n";

/* The script: vanilla JS, no frameworks; runs once the data element is parsed. */
static const char page_js[] =
    "'use strict';\n"
    "(function () {\n"
    "  /* The run's records, in the shapes of the JSON lines contract. Log text is\n"
    "   * untrusted: it only ever reaches the page as text nodes, never as HTML. */\n"
    "  const recs = JSON.parse(document.getElementById('ll-data').textContent);\n"
    "  const tls = [], late = [], orphans = [];\n"
    "  let stats = {}, report = {};\n"
    "  for (const r of recs) {\n"
    "    if (r.type === 'timeline') tls.push(r);\n"
    "    else if (r.type === 'late') late.push(r);\n"
    "    else if (r.type === 'orphans') orphans.push(r);\n"
    "    else if (r.type === 'stats') stats = r;\n"
    "    else if (r.type === 'report') report = r;\n"
    "  }\n"
    "  const $ = (id) => document.getElementById(id);\n"
    "\n"
    "  /* el('td', {class: 'x', 'data-y': '1'}, ['text', node]): strings become text. */\n"
    "  function el(tag, attrs, kids) {\n"
    "    const e = document.createElement(tag);\n"
    "    for (const k in attrs || {}) {\n"
    "      if (k === 'class') e.className = attrs[k];\n"
    "      else e.setAttribute(k, attrs[k]);\n"
    "    }\n"
    "    for (const c of kids || []) e.append(c);\n"
    "    return e;\n"
    "  }\n"
    "\n"
    "  /* RFC 3339 UTC with up to 9 fraction digits, to (fractional) epoch ms. */\n"
    "  function ms(ts) {\n"
    "    const m = /^(.*?)(\\.\\d+)?Z$/.exec(ts || '');\n"
    "    if (!m) return NaN;\n"
    "    return Date.parse(m[1] + 'Z') + (m[2] ? parseFloat(m[2]) * 1000 : 0);\n"
    "  }\n"
    "\n"
    "  function dur(d) {\n"
    "    const fix = (v, n) => String(parseFloat(v.toFixed(n)));\n"
    "    if (!isFinite(d)) return '?';\n"
    "    if (d < 1000) return fix(d, d < 10 ? 1 : 0) + ' ms';\n"
    "    if (d < 60000) return fix(d / 1000, d < 10000 ? 2 : 1) + ' s';\n"
    "    const m = Math.floor(d / 60000);\n"
    "    if (d < 3600000) return m + ' m ' + Math.round((d % 60000) / 1000) + ' s';\n"
    "    return Math.floor(m / 60) + ' h ' + (m % 60) + ' m';\n"
    "  }\n"
    "\n"
    "  /* \"09:14:03.118\", with the date when the report spans several days. */\n"
    "  const oneDay = new Set(tls.map((t) => t.start.slice(0, 10))).size <= 1;\n"
    "  const clock = (ts) => ts.replace('T', ' ').replace('Z', '').slice(oneDay ? 11 : 5, 23);\n"
    "\n"
    "  const lateOf = new Map();\n"
    "  for (const l of late) {\n"
    "    if (!lateOf.has(l.timeline_id)) lateOf.set(l.timeline_id, []);\n"
    "    lateOf.get(l.timeline_id).push(l);\n"
    "  }\n"
    "  for (const t of tls) {\n"
    "    t.t0 = ms(t.start);\n"
    "    t.t1 = ms(t.end);\n"
    "    t.late = lateOf.get(t.id) || [];\n"
    "  }\n"
    "  const failed = tls.filter((t) => t.status === 'failed');\n"
    "\n"
    "  /* ---- header ---------------------------------------------------------- */\n"
    "  function total(n, label, bad, sub) {\n"
    "    const kids = [el('b', {}, [String(n)]), label];\n"
    "    if (sub) kids.push(el('span', {class: 'sub'}, [sub]));\n"
    "    const cls = bad && n > 0 ? 'total bad' : 'total';\n"
    "    return el('span', {class: cls, 'data-ll-total': label}, kids);\n"
    "  }\n"
    "\n"
    "  function header() {\n"
    "    const list = (obj) => Object.entries(obj || {}).filter((e) => e[1] > 0)\n"
    "      .sort((a, b) => b[1] - a[1]).map(([k, n]) => k + ' ' + n);\n"
    "    const paren = (items, sep) => (items.length ? '(' + items.join(sep) + ')' : '');\n"
    "    const rejected = Object.values(stats.rejected || {}).reduce((a, b) => a + b, 0);\n"
    "    const all = stats.timelines;\n"
    "    $('ll-totals').append(\n"
    "      total(tls.length, 'workflows', false, all === undefined || all === tls.length\n"
    "        ? '' : 'of ' + all),\n"
    "      total(failed.length, 'failed', true),\n"
    "      total(stats.events || 0, 'events'),\n"
    "      total(stats.orphans || 0, 'orphans', false,\n"
    "        paren(list(stats.orphans_by_service), ' \\u00b7 ')),\n"
    "      total(rejected, 'rejected lines', true, paren(list(stats.rejected), ', ')),\n"
    "      total(stats.late || 0, 'late events', true));\n"
    "    if (tls.length) {\n"
    "      const first = tls.reduce((a, t) => (t.t0 < a.t0 ? t : a));\n"
    "      const last = tls.reduce((a, t) => (t.t1 > a.t1 ? t : a));\n"
    "      $('ll-span').textContent = first.start + ' \\u2013 ' + last.end;\n"
    "    }\n"
    "    if (report.omitted_timelines || report.omitted_late) {\n"
    "      $('ll-totals').after(el('div', {class: 'banner'}, [report.omitted_timelines +\n"
    "        ' workflows and ' + report.omitted_late + ' late events are not in this ' +\n"
    "        'report: it reached its size cap.']));\n"
    "    }\n"
    "  }\n"
    "\n"
    "  /* ---- workflow table -------------------------------------------------- */\n"
    "  const columns = [\n"
    "    {key: 't0', label: 'start', cell: (t) => clock(t.start)},\n"
    "    {key: 'duration_ms', label: 'duration', num: true, cell: (t) => dur(t.duration_ms)},\n"
    "    {key: 'errors', label: 'errors', num: true, cell: (t) => String(t.errors || '')},\n"
    "    {key: 'events', label: 'events', num: true, cell: (t) => String(t.events)},\n"
    "    {key: 'status', label: 'status', cell: (t) => statusCell(t)},\n"
    "    {key: 'correlation_id', label: 'correlation id', cell: (t) => t.correlation_id},\n"
    "  ];\n"
    "  let sortKey = 't0', sortDir = 1, selected = null;\n"
    "\n"
    "  function statusCell(t) {\n"
    "    const cell = [el('span', {class: 'pill ' + t.status}, [t.status])];\n"
    "    const n = t.alerts.length;\n"
    "    const label = n + (n > 1 ? ' alerts' : ' alert');\n"
    "    if (n) cell.push(' ', el('span', {class: 'pill alert'}, [label]));\n"
    "    return el('span', {}, cell);\n"
    "  }\n"
    "\n"
    "  function sortHeader(c) {\n"
    "    const th = el('th', {class: c.num ? 'num' : '', scope: 'col'}, [c.label]);\n"
    "    if (c.key === sortKey) {\n"
    "      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');\n"
    "    }\n"
    "    th.addEventListener('click', () => {\n"
    "      sortDir = sortKey === c.key ? -sortDir : c.num ? -1 : 1; /* numbers: largest first */\n"
    "      sortKey = c.key;\n"
    "      workflowTable();\n"
    "    });\n"
    "    return th;\n"
    "  }\n"
    "\n"
    "  function workflowRow(t) {\n"
    "    const tr = el('tr', {'data-ll-row': t.id, tabindex: '0',\n"
    "      class: t.status + (t === selected ? ' sel' : '')}, columns.map((c) => {\n"
    "      const cls = [c.num ? 'num' : '', c.key === 'errors' && t.errors ? 'errs' : '',\n"
    "        c.key === 'correlation_id' ? 'id' : ''].join(' ').trim();\n"
    "      return el('td', cls ? {class: cls} : {}, [c.cell(t)]);\n"
    "    }));\n"
    "    tr.addEventListener('click', () => select(t));\n"
    "    tr.addEventListener('keydown', (e) => {\n"
    "      if (e.key === 'Enter' || e.key === ' ') {\n"
    "        e.preventDefault();\n"
    "        select(t);\n"
    "      }\n"
    "    });\n"
    "    return tr;\n"
    "  }\n"
    "\n"
    "  function workflowTable() {\n"
    "    const rows = tls.slice().sort((a, b) => {\n"
    "      const x = a[sortKey], y = b[sortKey];\n"
    "      return (x < y ? -1 : x > y ? 1 : 0) * sortDir || a.t0 - b.t0;\n"
    "    });\n"
    "    $('ll-workflows').replaceChildren(\n"
    "      el('thead', {}, [el('tr', {}, columns.map(sortHeader))]),\n"
    "      el('tbody', {}, rows.map(workflowRow)));\n"
    "  }\n"
    "\n"
    "  function table(cls, heads, rows) {\n"
    "    const th = (h) => el('th', {class: h.num ? 'num' : ''}, [h.label]);\n"
    "    return el('table', cls ? {class: cls} : {},\n"
    "      [el('thead', {}, [el('tr', {}, heads.map(th))]), el('tbody', {}, rows)]);\n"
    "  }\n"
    "\n"
    "  function orphanTable() {\n"
    "    if (!orphans.length) return;\n"
    "    const rows = orphans.map((o) => el('tr', {'data-ll-orphans': o.service}, [\n"
    "      el('td', {}, [o.service]), el('td', {class: 'num'}, [String(o.events)]),\n"
    "      el('td', {class: 'num'}, [String(o.with_id)]),\n"
    "      el('td', {class: 'mono'},\n"
    "        o.examples.map((x) => el('div', {}, [x.source + ':' + x.offset]))),\n"
    "    ]));\n"
    "    const heads = [{label: 'service'}, {label: 'orphans', num: true},\n"
    "      {label: 'with id', num: true}, {label: 'examples (source:offset)'}];\n"
    "    $('ll-orphans').replaceChildren(el('h2', {}, ['Orphans by service']),\n"
    "      el('div', {class: 'scroll'}, [table('', heads, rows)]));\n"
    "    $('ll-orphans').hidden = false;\n"
    "  }\n"
    "\n"
    "  /* ---- the selected workflow ------------------------------------------- */\n"
    "  function alertId(a) {\n"
    "    if (typeof a === 'string') return a;\n"
    "    return a && a.id !== undefined ? String(a.id) : JSON.stringify(a);\n"
    "  }\n"
    "\n"
    "  function hopChain(t) {\n"
    "    const kids = [];\n"
    "    t.hops.forEach((h, i) => {\n"
    "      if (i) kids.push(el('span', {class: 'arrow'}, ['\\u2192']));\n"
    "      kids.push(el('span', {class: 'hop', 'data-ll-hop': h.to}, [h.to,\n"
    "        el('small', {}, ['+' + dur(ms(h.ts) - t.t0)])]));\n"
    "    });\n"
    "    return el('div', {class: 'hops'}, kids);\n"
    "  }\n"
    "\n"
    "  /* Ticks every 1, 2 or 5 x 10^k ms, about one per 100 px. */\n"
    "  function ticks(span) {\n"
    "    const n = Math.max(2, Math.floor(($('ll-detail').clientWidth - 160) / 100));\n"
    "    const raw = span / n, pow = Math.pow(10, Math.floor(Math.log10(raw)));\n"
    "    const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);\n"
    "    const out = [];\n"
    "    for (let v = 0; v <= span + step / 1000; v += step) out.push(v);\n"
    "    return out;\n"
    "  }\n"
    "\n"
    "  function mark(e, x) {\n"
    "    const cls = ['mark', e.level || 'none', e.via ? 'linked' : '',\n"
    "      e.time_inferred ? 'inferred' : '', e.late ? 'late' : ''].join(' ').trim();\n"
    "    const m = el('div', {class: cls, 'data-ll-event': String(e.i),\n"
    "      'data-ll-level': e.level || 'none'});\n"
    "    m.style.left = x(e.t);\n"
    "    return m;\n"
    "  }\n"
    "\n"
    "  /* One lane per service on a shared time axis; hops as arrows between lanes. */\n"
    "  function swimlanes(t, evs) {\n"
    "    const times = evs.map((e) => e.t);\n"
    "    const t0 = Math.min(t.t0, ...times), span = Math.max(t.t1, ...times) - t0;\n"
    "    const x = (v) => (span > 0 ? ((v - t0) / span) * 100 : 50) + '%';\n"
    "    const axis = el('div', {class: 'track'});\n"
    "    for (const v of span > 0 ? ticks(span) : []) {\n"
    "      const tick = el('div', {class: 'tick'}, [el('span', {}, ['+' + dur(v)])]);\n"
    "      tick.style.left = x(t0 + v);\n"
    "      axis.append(tick);\n"
    "    }\n"
    "    const services = t.services.slice();\n"
    "    for (const e of evs) if (!services.includes(e.service)) services.push(e.service);\n"
    "    const lanes = services.map((s) => el('div', {class: 'lane', 'data-ll-lane': s}, [\n"
    "      el('div', {class: 'name', title: s}, [s]),\n"
    "      el('div', {class: 'track'},\n"
    "        evs.filter((e) => e.service === s).map((e) => mark(e, x))),\n"
    "    ]));\n"
    "    const arrows = el('div', {class: 'track'});\n"
    "    for (const h of t.hops) {\n"
    "      const a = services.indexOf(h.from), b = services.indexOf(h.to);\n"
    "      if (a < 0 || b < 0 || a === b) continue;\n"
    "      const line = el('div', {class: 'hopline ' + (b > a ? 'down' : 'up'),\n"
    "        'data-ll-hopline': h.to});\n"
    "      line.style.left = x(ms(h.ts));\n"
    "      line.style.top = Math.min(a, b) * 34 + 17 + 'px';\n"
    "      line.style.height = Math.abs(b - a) * 34 + 'px';\n"
    "      arrows.append(line);\n"
    "    }\n"
    "    return el('div', {class: 'lanes'}, [el('div', {class: 'axis'}, [el('div'), axis])]\n"
    "      .concat(lanes, [el('div', {class: 'hoplines'}, [arrows])]));\n"
    "  }\n"
    "\n"
    "  function legend() {\n"
    "    const item = (cls, text) => el('span', {}, [el('span', {class: 'mark ' + cls}), text]);\n"
    "    return el('div', {class: 'legend'}, [item('info', 'info'), item('warn', 'warn'),\n"
    "      item('error', 'error / fatal'), item('info linked', 'linked (via pid / connection)'),\n"
    "      item('info inferred', 'time inferred'), item('info late', 'late')]);\n"
    "  }\n"
    "\n"
    "  function eventTable(t, evs) {\n"
    "    const rows = evs.map((e) => el('tr', {class: e.level || '', 'data-ll-event': e.i}, [\n"
    "      el('td', {class: 't num'}, ['+' + dur(e.t - t.t0)]),\n"
    "      el('td', {}, [e.service]),\n"
    "      el('td', {}, [e.level || '-']),\n"
    "      el('td', {class: 'msg'}, [e.msg + (e.late ? '  (late)' : '')]),\n"
    "      el('td', {}, [e.err_code || '']),\n"
    "      el('td', {class: 'mono'}, [e.via || '']),\n"
    "    ]));\n"
    "    const heads = ['time', 'service', 'level', 'message', 'error code', 'via']\n"
    "      .map((label, i) => ({label: label, num: i === 0}));\n"
    "    return el('div', {class: 'wide'}, [table('events', heads, rows)]);\n"
    "  }\n"
    "\n"
    "  let shown = []; /* the selected workflow's events, late ones included */\n"
    "\n"
    "  function select(t) {\n"
    "    selected = t;\n"
    "    for (const tr of document.querySelectorAll('tr[data-ll-row]')) {\n"
    "      tr.classList.toggle('sel', tr.getAttribute('data-ll-row') === t.id);\n"
    "    }\n"
    "    const lines = t.lines || [];\n"
    "    shown = t.event_list.map((e, i) => Object.assign({line: lines[i]}, e))\n"
    "      .concat(t.late.map((l) => Object.assign({late: true}, l)));\n"
    "    shown.forEach((e, i) => {\n"
    "      e.i = i;\n"
    "      e.t = ms(e.ts);\n"
    "    });\n"
    "    shown.sort((a, b) => a.t - b.t);\n"
    "    const facts = [clock(t.start), t.services.length + ' services', t.events + ' events',\n"
    "      t.errors + ' errors', 'closed: ' + t.reason, dur(t.duration_ms)];\n"
    "    if (t.linked) facts.push(t.linked + ' linked');\n"
    "    const n = t.alerts.length;\n"
    "    const alerts = el('div', {class: n ? 'alerts some' : 'alerts', 'data-ll-alerts': n},\n"
    "      [n ? 'Alerts: ' + t.alerts.map(alertId).join(', ') : 'No alerts']);\n"
    "    const d = $('ll-detail');\n"
    "    d.setAttribute('data-ll-selected', t.correlation_id);\n"
    "    d.replaceChildren(\n"
    "      el('h2', {}, [el('span', {class: 'mono'}, [t.correlation_id]),\n"
    "        el('span', {class: 'pill ' + t.status}, [t.status])]),\n"
    "      el('div', {class: 'facts'}, facts.map((f) => el('span', {}, [f]))),\n"
    "      alerts, hopChain(t), swimlanes(t, shown), legend());\n"
    "    if (t.dropped) {\n"
    "      d.append(el('p', {class: 'note'}, [t.dropped + ' events in the middle of this ' +\n"
    "        'workflow were counted but not kept.']));\n"
    "    }\n"
    "    d.append(eventTable(t, shown));\n"
    "  }\n"
    "\n"
    "  /* ---- the raw line on hover ------------------------------------------- */\n"
    "  function tip(e, ev) {\n"
    "    const box = $('ll-tip');\n"
    "    const head = [ev.ts, ev.service, ev.level || '-', ev.err_code,\n"
    "      ev.via && 'via ' + ev.via, ev.late && 'late'].filter(Boolean).join(' \\u00b7 ');\n"
    "    box.replaceChildren(el('div', {}, [head]),\n"
    "      el('div', {class: 'muted'}, [ev.source + ':' + ev.offset]),\n"
    "      ev.line ? el('pre', {class: 'raw'}, [ev.line])\n"
    "        : el('div', {class: 'raw'}, [ev.msg + '  (raw line not kept)']));\n"
    "    box.style.display = 'block';\n"
    "    const w = box.offsetWidth, h = box.offsetHeight;\n"
    "    const below = e.clientY + 16 + h <= innerHeight;\n"
    "    box.style.left = Math.max(4, Math.min(e.clientX + 14, innerWidth - w - 8)) + 'px';\n"
    "    box.style.top = (below ? e.clientY + 16 : e.clientY - h - 12) + 'px';\n"
    "  }\n"
    "\n"
    "  document.addEventListener('mousemove', (e) => {\n"
    "    const m = e.target.closest && e.target.closest('#ll-detail [data-ll-event]');\n"
    "    const ev = m && shown.find((s) => String(s.i) === m.getAttribute('data-ll-event'));\n"
    "    if (ev) tip(e, ev);\n"
    "    else $('ll-tip').style.display = 'none';\n"
    "  });\n"
    "\n"
    "  let resized = 0;\n"
    "  addEventListener('resize', () => {\n"
    "    cancelAnimationFrame(resized);\n"
    "    resized = requestAnimationFrame(() => selected && select(selected));\n"
    "  });\n"
    "\n"
    "  header();\n"
    "  workflowTable();\n"
    "  orphanTable();\n"
    "  /* report.html#<correlation id or workflow id> opens that workflow. */\n"
    "  let want = location.hash.slice(1);\n"
    "  try {\n"
    "    want = decodeURIComponent(want);\n"
    "  } catch (err) {\n"
    "    /* not %-encoded: use it as it is */\n"
    "  }\n"
    "  const byStart = tls.slice().sort((a, b) => a.t0 - b.t0);\n"
    "  const pick = tls.find((t) => t.id === want || t.correlation_id === want) ||\n"
    "    byStart.find((t) => t.status === 'failed') || byStart[0];\n"
    "  if (pick) select(pick);\n"
    "  else $('ll-detail').textContent = 'No workflows in this report.';\n"
    "  document.body.setAttribute('data-ll-ready', String(tls.length));\n"
    "})();\n";

/* ------------------------------------------------------------------------ */
/* The sink                                                                  */

/* Records kept once this much data is held are counted instead: a browser
 * cannot show more, and memory stays bounded on long replays. */
#define HTML_MAX_DATA ((size_t)64 << 20)

struct html {
    struct ll_buf data;         /* JSON records, each followed by ",\n" */
    uint64_t omitted_timelines; /* records not kept: over HTML_MAX_DATA */
    uint64_t omitted_late;
};

static void json_str_or_null(struct ll_buf *b, struct ll_str s)
{
    if (s.len)
        ll_buf_json_str(b, s.ptr, s.len);
    else
        ll_buf_puts(b, "null");
}

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
        json_str_or_null(b, tl->events[i].line);
    }
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
    fputs(page_head, s->out);
    fputs(page_css, s->out);
    fputs(page_body, s->out);
    fputs("<script type=\"application/json\" id=\"ll-data\">[\n", s->out);
    write_inert(s->out, b->data, b->len);
    fputs("]</script>\n<script>\n", s->out);
    fputs(page_js, s->out);
    fputs("</script>\n</body>\n</html>\n", s->out);
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
