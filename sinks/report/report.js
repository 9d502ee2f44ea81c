'use strict';
(function () {
  /* The run's records, in the shapes of the JSON lines contract. Log text is
   * untrusted: it only ever reaches the page as text nodes, never as HTML. */
  const recs = JSON.parse(document.getElementById('ll-data').textContent);
  const tls = [], late = [], orphans = [], alerts = [];
  let stats = {}, report = {};
  for (const r of recs) {
    if (r.type === 'timeline') tls.push(r);
    else if (r.type === 'late') late.push(r);
    else if (r.type === 'orphans') orphans.push(r);
    else if (r.type === 'alert') alerts.push(r);
    else if (r.type === 'stats') stats = r;
    else if (r.type === 'report') report = r;
  }
  const $ = (id) => document.getElementById(id);

  /* el('td', {class: 'x', 'data-y': '1'}, ['text', node]): strings become text. */
  function el(tag, attrs, kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of kids || []) e.append(c);
    return e;
  }

  /* RFC 3339 UTC with up to 9 fraction digits, to (fractional) epoch ms. */
  function ms(ts) {
    const m = /^(.*?)(\.\d+)?Z$/.exec(ts || '');
    if (!m) return NaN;
    return Date.parse(m[1] + 'Z') + (m[2] ? parseFloat(m[2]) * 1000 : 0);
  }

  function dur(d) {
    const fix = (v, n) => String(parseFloat(v.toFixed(n)));
    if (!isFinite(d)) return '?';
    if (d < 1000) return fix(d, d < 10 ? 1 : 0) + ' ms';
    if (d < 60000) return fix(d / 1000, d < 10000 ? 2 : 1) + ' s';
    const m = Math.floor(d / 60000);
    if (d < 3600000) return m + ' m ' + Math.round((d % 60000) / 1000) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' m';
  }

  /* "09:14:03.118", with the date when the report spans several days. */
  const oneDay = new Set(tls.map((t) => t.start.slice(0, 10))).size <= 1;
  const clock = (ts) => ts.replace('T', ' ').replace('Z', '').slice(oneDay ? 11 : 5, 23);

  const lateOf = new Map();
  for (const l of late) {
    if (!lateOf.has(l.timeline_id)) lateOf.set(l.timeline_id, []);
    lateOf.get(l.timeline_id).push(l);
  }
  for (const t of tls) {
    t.t0 = ms(t.start);
    t.t1 = ms(t.end);
    t.late = lateOf.get(t.id) || [];
  }
  const failed = tls.filter((t) => t.status === 'failed');

  /* ---- alerts and the workflows they belong to -------------------------- */
  /* Severities from the most to the least urgent; a Map, so that no value in
   * the data can name a property of Object.prototype. */
  const sevRank = new Map([['critical', 0], ['error', 1], ['warning', 2], ['info', 3]]);
  const rank = (s) => (sevRank.has(s) ? sevRank.get(s) : sevRank.size);
  const sevBadge = (s) =>
    el('span', {class: 'sev sev-' + (sevRank.has(s) ? s : 'other')}, [String(s)]);

  function alertId(a) {
    if (typeof a === 'string') return a;
    return a && a.id !== undefined ? String(a.id) : JSON.stringify(a);
  }

  /* A line's position, as events and evidence both give it. */
  const posKey = (source, offset) => source + '\u0000' + offset;

  for (const a of alerts) a.t0 = ms(a.first_seen);
  alerts.sort((a, b) => a.t0 - b.t0 || rank(a.severity) - rank(b.severity));
  const alertById = new Map(alerts.map((a) => [a.id, a]));
  const tlById = new Map(tls.map((t) => [t.id, t]));

  /* t.alertList: {id, a} for the ids the timeline lists (a is the record, when
   * the report has it) and for the alerts that name the timeline. t.evidence:
   * the position of each line those alerts cite, to its alerts. */
  for (const t of tls) {
    t.alertList = t.alerts.map((x) => ({id: alertId(x), a: alertById.get(alertId(x))}));
    t.evidence = new Map();
  }
  for (const a of alerts) {
    const t = tlById.get(a.timeline_id);
    if (t && !t.alertList.some((x) => x.id === a.id)) t.alertList.push({id: a.id, a: a});
  }
  for (const t of tls) {
    t.n_alerts = t.alertList.length;
    for (const x of t.alertList) {
      for (const ev of (x.a && x.a.evidence) || []) {
        const k = posKey(ev.source, ev.offset);
        if (!t.evidence.has(k)) t.evidence.set(k, []);
        if (!t.evidence.get(k).includes(x.a)) t.evidence.get(k).push(x.a);
      }
    }
  }

  /* ---- header ---------------------------------------------------------- */
  function total(n, label, bad, sub) {
    const kids = [el('b', {}, [String(n)]), label];
    if (sub) kids.push(el('span', {class: 'sub'}, [sub]));
    const cls = bad && n > 0 ? 'total bad' : 'total';
    return el('span', {class: cls, 'data-ll-total': label}, kids);
  }

  function header() {
    const list = (obj) => Object.entries(obj || {}).filter((e) => e[1] > 0)
      .sort((a, b) => b[1] - a[1]).map(([k, n]) => k + ' ' + n);
    const paren = (items, sep) => (items.length ? '(' + items.join(sep) + ')' : '');
    const rejected = Object.values(stats.rejected || {}).reduce((a, b) => a + b, 0);
    const all = stats.timelines;
    const bySev = new Map();
    for (const a of alerts) bySev.set(a.severity, (bySev.get(a.severity) || 0) + 1);
    const sevs = [...bySev].sort((a, b) => rank(a[0]) - rank(b[0])).map(([k, n]) => k + ' ' + n);
    $('ll-totals').append(
      total(tls.length, 'workflows', false, all === undefined || all === tls.length
        ? '' : 'of ' + all),
      total(failed.length, 'failed', true),
      total(alerts.length, 'alerts', true, paren(sevs, ' \u00b7 ')),
      total(stats.events || 0, 'events'),
      total(stats.orphans || 0, 'orphans', false,
        paren(list(stats.orphans_by_service), ' \u00b7 ')),
      total(rejected, 'rejected lines', true, paren(list(stats.rejected), ', ')),
      total(stats.late || 0, 'late events', true));
    if (tls.length) {
      const first = tls.reduce((a, t) => (t.t0 < a.t0 ? t : a));
      const last = tls.reduce((a, t) => (t.t1 > a.t1 ? t : a));
      $('ll-span').textContent = first.start + ' \u2013 ' + last.end;
    }
    if (report.omitted_timelines || report.omitted_late) {
      $('ll-totals').after(el('div', {class: 'banner'}, [report.omitted_timelines +
        ' workflows and ' + report.omitted_late + ' late events are not in this ' +
        'report: it reached its size cap.']));
    }
  }

  function table(cls, heads, rows) {
    const th = (h) => el('th', {class: h.num ? 'num' : ''}, [h.label]);
    return el('table', cls ? {class: cls} : {},
      [el('thead', {}, [el('tr', {}, heads.map(th))]), el('tbody', {}, rows)]);
  }

  /* Enter and Space do what a click does, on rows that take the focus. */
  function onActivate(node, fn) {
    node.addEventListener('click', fn);
    node.addEventListener('keydown', (e) => {
      if (e.target === node && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        fn(e);
      }
    });
  }

  /* ---- alerts panel ---------------------------------------------------- */
  const alertHeads = [{label: 'first seen'}, {label: 'severity'}, {label: 'symptom'},
    {label: 'alert'}, {label: 'count', num: true}, {label: 'service'}, {label: 'workflow'}];

  /* What an alert row opens to: the lines it cites and what to do about it. */
  function alertDetail(a) {
    const evidence = a.evidence || [];
    const kids = [el('div', {class: 'facts'}, [
      el('span', {}, ['rule ' + a.rule]),
      el('span', {}, ['first ' + a.first_seen]),
      el('span', {}, ['last ' + a.last_seen]),
      el('span', {}, [a.count + (a.count === 1 ? ' match' : ' matches')]),
    ]), el('h3', {}, ['Evidence'])];
    if (!evidence.length) kids.push(el('p', {class: 'note'}, ['No lines kept.']));
    for (const ev of evidence) {
      kids.push(el('div', {class: 'evidence', 'data-ll-evidence': ev.source + ':' + ev.offset},
        [el('div', {class: 'pos mono'}, [ev.source + ':' + ev.offset]),
          el('pre', {class: 'raw'}, [ev.line])]));
    }
    kids.push(el('h3', {}, ['Remediation']),
      el('p', {class: 'remedy'}, [a.remediation || 'None given.']));
    return kids;
  }

  function workflowLink(a) {
    if (!a.correlation_id) return el('span', {class: 'none'}, ['none']);
    const link = el('a', {class: 'mono', href: '#' + encodeURIComponent(a.correlation_id)},
      [a.correlation_id]);
    link.addEventListener('click', () => {
      const t = tlById.get(a.timeline_id) ||
        tls.find((x) => x.correlation_id === a.correlation_id);
      if (t) show(t);
    });
    return link;
  }

  function alertRows(a) {
    const more = el('tr', {class: 'more'}, [el('td', {colspan: String(alertHeads.length)})]);
    more.hidden = true;
    const tr = el('tr', {class: 'alert', 'data-ll-alert': a.id, tabindex: '0',
      'aria-expanded': 'false'}, [
      el('td', {class: 't'}, [a.first_seen ? clock(a.first_seen) : '']),
      el('td', {}, [sevBadge(a.severity)]),
      el('td', {}, [el('span', {class: 'mono'}, [a.symptom]),
        a.playbook ? el('span', {class: 'section'}, ['\u00a7' + a.playbook]) : '']),
      el('td', {class: 'what'}, [el('div', {class: 'title'}, [a.title]),
        el('div', {class: 'summary'}, [a.summary])]),
      el('td', {class: 'num'}, ['\u00d7' + a.count]),
      el('td', {}, [a.service]),
      el('td', {}, [workflowLink(a)]),
    ]);
    onActivate(tr, (e) => {
      if (e.target.closest('a')) return;
      const open = more.hidden;
      if (open && !more.firstChild.firstChild) more.firstChild.append(...alertDetail(a));
      more.hidden = !open;
      tr.classList.toggle('open', open);
      tr.setAttribute('aria-expanded', String(open));
    });
    return [tr, more];
  }

  function alertPanel() {
    if (!alerts.length) return;
    const rows = [].concat(...alerts.map(alertRows));
    $('ll-alerts').replaceChildren(
      el('h2', {}, ['Alerts', el('small', {}, ['click a row for its evidence'])]),
      el('div', {class: 'scroll'}, [table('al', alertHeads, rows)]));
    $('ll-alerts').hidden = false;
  }

  /* Opens an alert's row in the panel and brings it into view. */
  function openAlert(id) {
    const tr = [...document.querySelectorAll('tr[data-ll-alert]')]
      .find((r) => r.getAttribute('data-ll-alert') === id);
    if (!tr) return;
    if (tr.getAttribute('aria-expanded') !== 'true') tr.click();
    tr.scrollIntoView({block: 'nearest'});
    tr.focus({preventScroll: true});
  }

  /* ---- workflow table -------------------------------------------------- */
  const columns = [
    {key: 't0', label: 'start', cell: (t) => clock(t.start)},
    {key: 'duration_ms', label: 'duration', num: true, cell: (t) => dur(t.duration_ms)},
    {key: 'errors', label: 'errors', num: true, cell: (t) => String(t.errors || '')},
    {key: 'n_alerts', label: 'alerts', num: true, cell: (t) => alertsCell(t)},
    {key: 'events', label: 'events', num: true, cell: (t) => String(t.events)},
    {key: 'status', label: 'status', cell: (t) => el('span', {class: 'pill ' + t.status},
      [t.status])},
    {key: 'correlation_id', label: 'correlation id', cell: (t) => t.correlation_id},
  ];
  let sortKey = 't0', sortDir = 1, selected = null;

  function alertsCell(t) {
    if (!t.n_alerts) return '';
    const worst = Math.min(...t.alertList.map((x) => (x.a ? rank(x.a.severity) : 0)));
    const title = t.alertList.map((x) => (x.a ? x.a.symptom : x.id)).join(', ');
    const mild = worst > sevRank.get('error');
    return el('span', {class: 'pill alert' + (mild ? ' mild' : ''), title: title},
      [String(t.n_alerts)]);
  }

  function sortHeader(c) {
    const th = el('th', {class: c.num ? 'num' : '', scope: 'col', 'data-ll-col': c.key},
      [c.label]);
    if (c.key === sortKey) {
      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    }
    th.addEventListener('click', () => {
      sortDir = sortKey === c.key ? -sortDir : c.num ? -1 : 1; /* numbers: largest first */
      sortKey = c.key;
      workflowTable();
    });
    return th;
  }

  function workflowRow(t) {
    const tr = el('tr', {'data-ll-row': t.id, tabindex: '0',
      class: t.status + (t === selected ? ' sel' : '')}, columns.map((c) => {
      const cls = [c.num ? 'num' : '', c.key === 'errors' && t.errors ? 'errs' : '',
        c.key === 'correlation_id' ? 'id' : ''].join(' ').trim();
      return el('td', cls ? {class: cls} : {}, [c.cell(t)]);
    }));
    onActivate(tr, () => select(t));
    return tr;
  }

  function workflowTable() {
    const rows = tls.slice().sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir || a.t0 - b.t0;
    });
    $('ll-workflows').replaceChildren(
      el('thead', {}, [el('tr', {}, columns.map(sortHeader))]),
      el('tbody', {}, rows.map(workflowRow)));
  }

  function orphanTable() {
    if (!orphans.length) return;
    const rows = orphans.map((o) => el('tr', {'data-ll-orphans': o.service}, [
      el('td', {}, [o.service]), el('td', {class: 'num'}, [String(o.events)]),
      el('td', {class: 'num'}, [String(o.with_id)]),
      el('td', {class: 'mono'},
        o.examples.map((x) => el('div', {}, [x.source + ':' + x.offset]))),
    ]));
    const heads = [{label: 'service'}, {label: 'orphans', num: true},
      {label: 'with id', num: true}, {label: 'examples (source:offset)'}];
    $('ll-orphans').replaceChildren(el('h2', {}, ['Orphans by service']),
      el('div', {class: 'scroll'}, [table('', heads, rows)]));
    $('ll-orphans').hidden = false;
  }

  /* ---- the selected workflow ------------------------------------------- */
  /* The workflow's alerts by title and symptom; a click opens one in the panel. */
  function alertBox(t) {
    const n = t.n_alerts;
    if (!n) return el('div', {class: 'alerts', 'data-ll-alerts': '0'}, ['No alerts']);
    const items = t.alertList.map((x) => {
      if (!x.a) {
        return el('li', {'data-ll-alert-ref': x.id},
          [el('span', {class: 'mono'}, [x.id]), ' (not in this report)']);
      }
      const li = el('li', {class: 'ref', 'data-ll-alert-ref': x.id, tabindex: '0'}, [
        sevBadge(x.a.severity), ' ', el('b', {}, [x.a.title]), ' ',
        el('span', {class: 'mono symptom'}, [x.a.symptom]),
        x.a.count > 1 ? ' \u00d7' + x.a.count : '']);
      onActivate(li, () => openAlert(x.id));
      return li;
    });
    const worst = Math.min(...t.alertList.map((x) => (x.a ? rank(x.a.severity) : 0)));
    const cls = 'alerts some' + (worst > sevRank.get('error') ? ' mild' : '');
    return el('div', {class: cls, 'data-ll-alerts': String(n)},
      [el('div', {class: 'head'}, [n + (n > 1 ? ' alerts' : ' alert')]), el('ul', {}, items)]);
  }

  function hopChain(t) {
    const kids = [];
    t.hops.forEach((h, i) => {
      if (i) kids.push(el('span', {class: 'arrow'}, ['\u2192']));
      kids.push(el('span', {class: 'hop', 'data-ll-hop': h.to}, [h.to,
        el('small', {}, ['+' + dur(ms(h.ts) - t.t0)])]));
    });
    return el('div', {class: 'hops'}, kids);
  }

  /* Ticks every 1, 2 or 5 x 10^k ms, about one per 100 px. */
  function ticks(span) {
    const n = Math.max(2, Math.floor(($('ll-detail').clientWidth - 160) / 100));
    const raw = span / n, pow = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
    const out = [];
    for (let v = 0; v <= span + step / 1000; v += step) out.push(v);
    return out;
  }

  function mark(e, x) {
    const cls = ['mark', e.level || 'none', e.via ? 'linked' : '',
      e.time_inferred ? 'inferred' : '', e.late ? 'late' : '',
      e.alerts.length ? 'alerted' : '', e.matched ? 'matched' : ''].join(' ')
      .replace(/ +/g, ' ').trim();
    const attrs = {class: cls, 'data-ll-event': String(e.i), 'data-ll-level': e.level || 'none'};
    if (e.alerts.length) attrs['data-ll-alert-mark'] = e.alerts.map((a) => a.symptom).join(' ');
    const m = el('div', attrs);
    m.style.left = x(e.t);
    return m;
  }

  /* One lane per service on a shared time axis; hops as arrows between lanes. */
  function swimlanes(t, evs) {
    const times = evs.map((e) => e.t);
    const t0 = Math.min(t.t0, ...times), span = Math.max(t.t1, ...times) - t0;
    const x = (v) => (span > 0 ? ((v - t0) / span) * 100 : 50) + '%';
    const axis = el('div', {class: 'track'});
    for (const v of span > 0 ? ticks(span) : []) {
      const tick = el('div', {class: 'tick'}, [el('span', {}, ['+' + dur(v)])]);
      tick.style.left = x(t0 + v);
      axis.append(tick);
    }
    const services = t.services.slice();
    for (const e of evs) if (!services.includes(e.service)) services.push(e.service);
    const lanes = services.map((s) => el('div', {class: 'lane', 'data-ll-lane': s}, [
      el('div', {class: 'name', title: s}, [s]),
      el('div', {class: 'track'},
        evs.filter((e) => e.service === s).map((e) => mark(e, x))),
    ]));
    const arrows = el('div', {class: 'track'});
    for (const h of t.hops) {
      const a = services.indexOf(h.from), b = services.indexOf(h.to);
      if (a < 0 || b < 0 || a === b) continue;
      const line = el('div', {class: 'hopline ' + (b > a ? 'down' : 'up'),
        'data-ll-hopline': h.to});
      line.style.left = x(ms(h.ts));
      line.style.top = Math.min(a, b) * 34 + 17 + 'px';
      line.style.height = Math.abs(b - a) * 34 + 'px';
      arrows.append(line);
    }
    return el('div', {class: 'lanes'}, [el('div', {class: 'axis'}, [el('div'), axis])]
      .concat(lanes, [el('div', {class: 'hoplines'}, [arrows])]));
  }

  function legend(evs) {
    const item = (cls, text) => el('span', {}, [el('span', {class: 'mark ' + cls}), text]);
    const items = [item('info', 'info'), item('warn', 'warn'),
      item('error', 'error / fatal'), item('info linked', 'linked (via pid / connection)'),
      item('info inferred', 'time inferred'), item('info late', 'late')];
    if (evs.some((e) => e.alerts.length)) items.push(item('info alerted', 'alert evidence'));
    if (evs.some((e) => e.matched)) items.push(item('info matched', 'matched a rule step'));
    return el('div', {class: 'legend'}, items);
  }

  function eventTable(t, evs) {
    const rows = evs.map((e) => el('tr', {class: (e.level || '') +
      (e.alerts.length ? ' alerted' : ''), 'data-ll-event': e.i}, [
      el('td', {class: 't num'}, ['+' + dur(e.t - t.t0)]),
      el('td', {}, [e.service]),
      el('td', {}, [e.level || '-']),
      el('td', {class: 'msg'}, [e.msg + (e.late ? '  (late)' : '')].concat(
        e.alerts.map((a) => el('span', {class: 'pill alert'}, [a.symptom])))),
      el('td', {}, [e.err_code || '']),
      el('td', {class: 'mono'}, [e.via || '']),
    ]));
    const heads = ['time', 'service', 'level', 'message', 'error code', 'via']
      .map((label, i) => ({label: label, num: i === 0}));
    return el('div', {class: 'wide'}, [table('events', heads, rows)]);
  }

  let shown = []; /* the selected workflow's events, late ones included */

  function select(t) {
    selected = t;
    for (const tr of document.querySelectorAll('tr[data-ll-row]')) {
      tr.classList.toggle('sel', tr.getAttribute('data-ll-row') === t.id);
    }
    const lines = t.lines || [];
    const matched = new Set(t.matched || []);
    shown = t.event_list.map((e, i) => Object.assign({line: lines[i], matched: matched.has(i)}, e))
      .concat(t.late.map((l) => Object.assign({late: true}, l)));
    shown.forEach((e, i) => {
      e.i = i;
      e.t = ms(e.ts);
      e.alerts = t.evidence.get(posKey(e.source, e.offset)) || [];
    });
    shown.sort((a, b) => a.t - b.t);
    const facts = [clock(t.start), t.services.length + ' services', t.events + ' events',
      t.errors + ' errors', 'closed: ' + t.reason, dur(t.duration_ms)];
    if (t.linked) facts.push(t.linked + ' linked');
    const d = $('ll-detail');
    d.setAttribute('data-ll-selected', t.correlation_id);
    d.replaceChildren(
      el('h2', {}, [el('span', {class: 'mono'}, [t.correlation_id]),
        el('span', {class: 'pill ' + t.status}, [t.status])]),
      el('div', {class: 'facts'}, facts.map((f) => el('span', {}, [f]))),
      alertBox(t), hopChain(t), swimlanes(t, shown), legend(shown));
    if (t.dropped) {
      d.append(el('p', {class: 'note'}, [t.dropped + ' events in the middle of this ' +
        'workflow were counted but not kept.']));
    }
    d.append(eventTable(t, shown));
  }

  /* Selects a workflow the user asked for and brings it into view. */
  function show(t) {
    select(t);
    const row = document.querySelector('tr.sel[data-ll-row]');
    if (row) row.scrollIntoView({block: 'nearest'});
    $('ll-detail').scrollIntoView({block: 'start'});
  }

  /* ---- the raw line on hover ------------------------------------------- */
  function tip(e, ev) {
    const box = $('ll-tip');
    const head = [ev.ts, ev.service, ev.level || '-', ev.err_code,
      ev.via && 'via ' + ev.via, ev.late && 'late'].filter(Boolean).join(' \u00b7 ');
    box.replaceChildren(el('div', {}, [head]),
      el('div', {class: 'muted'}, [ev.source + ':' + ev.offset]));
    for (const a of ev.alerts) {
      box.append(el('div', {class: 'tip-alert'},
        ['\u2691 alert: ' + a.symptom + ' \u2013 ' + a.title]));
    }
    if (ev.matched && !ev.alerts.length) {
      box.append(el('div', {class: 'muted'}, ['matched a rule step']));
    }
    box.append(ev.line ? el('pre', {class: 'raw'}, [ev.line])
      : el('div', {class: 'raw'}, [ev.msg + '  (raw line not kept)']));
    box.style.display = 'block';
    const w = box.offsetWidth, h = box.offsetHeight;
    const below = e.clientY + 16 + h <= innerHeight;
    box.style.left = Math.max(4, Math.min(e.clientX + 14, innerWidth - w - 8)) + 'px';
    box.style.top = (below ? e.clientY + 16 : e.clientY - h - 12) + 'px';
  }

  document.addEventListener('mousemove', (e) => {
    const m = e.target.closest && e.target.closest('#ll-detail [data-ll-event]');
    const ev = m && shown.find((s) => String(s.i) === m.getAttribute('data-ll-event'));
    if (ev) tip(e, ev);
    else $('ll-tip').style.display = 'none';
  });

  let resized = 0;
  addEventListener('resize', () => {
    cancelAnimationFrame(resized);
    resized = requestAnimationFrame(() => selected && select(selected));
  });

  /* report.html#<correlation id or workflow id> opens that workflow. */
  function wanted() {
    let want = location.hash.slice(1);
    try {
      want = decodeURIComponent(want);
    } catch (err) {
      /* not %-encoded: use it as it is */
    }
    return want;
  }
  const isWanted = (t, want) => t.id === want || t.correlation_id === want;

  addEventListener('hashchange', () => {
    const want = wanted();
    /* An alert's link has already selected its own workflow: a correlation
     * id may name several. */
    if (selected && isWanted(selected, want)) return;
    const t = tls.find((x) => isWanted(x, want));
    if (t) show(t);
  });

  header();
  alertPanel();
  workflowTable();
  orphanTable();
  const byStart = tls.slice().sort((a, b) => a.t0 - b.t0);
  const want = wanted();
  const pick = tls.find((t) => isWanted(t, want)) || byStart.find((t) => t.status === 'failed') || byStart[0];
  if (pick) select(pick);
  else $('ll-detail').textContent = 'No workflows in this report.';
  document.body.setAttribute('data-ll-ready', String(tls.length));
})();
