'use strict';
// TRUTH.json for a shapes corpus, and a check of it against raw/.
//   build(...)                 called by scenarios/shapes.js at the end of a run
//   node lib/shapes-truth.js <corpus dir>...   re-checks an existing TRUTH.json
// A workflow's lines ("events") are the lines of raw/ that contain one of its
// ids anywhere, plus the lines of its children's own files (raw/child-<pid>.log)
// that contain no workflow id. Its expected symptoms are the ones whose
// evidence line is among those lines (see DETECT), so every entry of `expect`
// has a real line behind it; planned symptoms without one are listed under
// `absent`.
const fs = require('fs');
const path = require('path');

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const parse = (s) => { try { return JSON.parse(s); } catch (_) { return null; } };
const msgOf = (o) => (o && (o.msg !== undefined ? o.msg : o.message));

// evidence of a symptom on one line of the workflow
const DETECT = {
  'spawn-einval': (s) => s.includes('spawn failed') && s.includes('EINVAL'),
  'spawn-enoent': (s) => s.includes('spawn failed') && s.includes('ENOENT'),
  'spawn-eacces': (s) => s.includes('spawn failed') && s.includes('EACCES'),
  // the tool API's resets, and a dispatch on a keep-alive socket the dying agent-4 closed
  'econnreset': (s) => (s.includes('tool call failed') || s.includes('dispatch to agent failed')) && /ECONNRESET|socket hang up|other side closed/.test(s),
  'request-timeout': (s) => s.includes('model call failed') && /TimeoutError|aborted due to timeout/.test(s),
  'pg-deadlock': (s) => s.includes('40P01'),
  'pg-too-many-connections': (s) => s.includes('53300'),
  'heap-oom': (s) => s.includes('JavaScript heap out of memory'),
  'oom-killed': (s) => s.includes('child exited') && s.includes('SIGKILL'),
  'econnrefused': (s) => s.includes('dispatch to agent failed') && s.includes('ECONNREFUSED'),
  'ws-ghost-agent': (s) => /WebSocket is not open: readyState [23] \((CLOSING|CLOSED)\)/.test(s),
};

// time of a line in any of the shapes (ms since epoch)
function timeOf(o) {
  if (!o) return null;
  if (typeof o.time === 'number') return o.time;
  if (typeof o.time === 'string') return Date.parse(o.time);
  if (o.timestamp) return Date.parse(o.timestamp);
  if (typeof o.ts === 'number') return o.ts * 1000;
  if (o['@timestamp']) return Date.parse(o['@timestamp']);
  return null;
}

function readRaw(out) {
  const dir = path.join(out, 'raw');
  const files = {};
  for (const f of fs.readdirSync(dir).sort()) {
    const s = fs.readFileSync(path.join(dir, f), 'utf8');
    files[f] = s.length ? s.replace(/\n$/, '').split('\n') : [];
  }
  return files;
}

// lines of each workflow, given id -> workflow index and childPid -> index
function linesOf(files, idx, childOf) {
  const per = new Map();
  const add = (w, f, i, s) => { if (!per.has(w)) per.set(w, []); per.get(w).push({ f, i, s }); };
  for (const [f, lines] of Object.entries(files)) {
    const m = /^child-(\d+)\.log$/.exec(f);
    lines.forEach((s, i) => {
      const ws = new Set((s.match(UUID) || []).filter((u) => idx.has(u)).map((u) => idx.get(u)));
      for (const w of ws) add(w, f, i, s);
      if (!ws.size && m && childOf.has(Number(m[1]))) add(childOf.get(Number(m[1])), f, i, s);
    });
  }
  return per;
}

function childPids(files, idx) {
  const childOf = new Map();
  for (const [f, lines] of Object.entries(files)) {
    if (!/^agent-\d\.log$/.test(f)) continue;
    for (const s of lines) {
      if (!s.includes('child spawned')) continue;
      const o = parse(s);
      if (!o || msgOf(o) !== 'child spawned') continue;
      const ids = (s.match(UUID) || []).filter((u) => idx.has(u));
      if (ids.length) childOf.set(o.childPid, idx.get(ids[0]));
    }
  }
  return childOf;
}

function build({ out, seed, cfg, WORKFLOWS, side, killed, zombies, events, SYMPTOM, LOGGER_NAME, sinks }) {
  const files = readRaw(out);
  const rec = side.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const wfs = WORKFLOWS.map((w, job) => ({ job, plan: w.workflow, planned: w.agent, pair: w.pair, ids: [], served: null }));
  for (const r of rec) {
    const w = wfs[r.job];
    if (!w) continue;
    if (r.agent === 'manager') { w.id = r.id; w.ids.unshift(r.id); continue; }
    if (!w.ids.includes(r.id)) w.ids.push(r.id);
    if (r.status !== 429) w.served = r.agent;
  }
  const idx = new Map();
  wfs.forEach((w, i) => { for (const id of w.ids) idx.set(id, i); });
  const childOf = childPids(files, idx);
  const per = linesOf(files, idx, childOf);
  const shapeOf = (g) => `${cfg.shape[g].logger}/${cfg.shape[g].idField}`;

  // correlation-lost (c): progress lines the monitor logged without an id, per workflow name
  const idlessProgress = {};
  for (const s of files['monitor.log']) {
    if (!s.includes('task progress')) continue;
    const o = parse(s);
    if (o && msgOf(o) === 'task progress' && !(s.match(UUID) || []).some((u) => idx.has(u))) idlessProgress[o.workflow] = (idlessProgress[o.workflow] || 0) + 1;
  }
  const a4Exit = (() => {
    for (const s of files['agent-4.log']) if (s.includes('shutdown complete')) return timeOf(parse(s));
    return null;
  })();

  // both workflows of a deadlock pair expect pg-deadlock if either logged the 40P01
  const pairHit = new Set();
  wfs.forEach((w, i) => { if (w.pair !== undefined && (per.get(i) || []).some((l) => DETECT['pg-deadlock'](l.s))) pairHit.add(w.pair); });
  const absent = [];
  const result = wfs.map((w, i) => {
    const lines = per.get(i) || [];
    const expect = new Set();
    for (const [sym, fn] of Object.entries(DETECT)) if (lines.some((l) => fn(l.s))) expect.add(sym);
    if (w.pair !== undefined && pairHit.has(w.pair)) expect.add('pg-deadlock');
    const kids = [...childOf].filter(([, j]) => j === i).map(([p]) => p);
    // zombie-child: a background child of agent-4 still logging after agent-4's shutdown
    if (kids.some((p) => zombies.includes(p)) && lines.some((l) => l.f.startsWith('child-') && timeOf(parse(l.s)) > a4Exit)) expect.add('zombie-child');
    // correlation-lost: (a) a child's own lines without the id, (b) a second id minted downstream, (c) see above
    if (lines.some((l) => l.f.startsWith('child-') && parse(l.s) && msgOf(parse(l.s)) === 'worker started' && !(l.s.match(UUID) || []).length)) expect.add('correlation-lost');
    if (w.ids.length > 1 && lines.some((l) => l.s.includes(w.ids[1]))) expect.add('correlation-lost');
    if (w.plan === 'publish-release-notes' && idlessProgress[w.plan]) expect.add('correlation-lost');
    const planned = [];
    if (SYMPTOM[w.plan]) planned.push(SYMPTOM[w.plan]);
    if (w.pair !== undefined) planned.push('pg-deadlock');
    for (const p of planned) if (!expect.has(p)) absent.push({ id: w.id, plan: w.plan, symptom: p });
    const agent = w.served || w.planned;
    const shapes = { manager: shapeOf('manager'), agent: shapeOf(agent), monitor: shapeOf('monitor') };
    if (kids.length) shapes.worker = shapeOf('worker');
    if (cfg.relay[agent] && kids.length) shapes.relay = `${agent}:${cfg.relay[agent]}`;
    const o = { id: w.id, ids: w.ids, plan: w.plan, agent, shapes, expect: [...expect].sort(), events: lines.length };
    if (agent !== w.planned) o.planned_agent = w.planned;
    if (kids.length) o.child_pids = kids;
    if (w.pair !== undefined) o.pair = w.pair;
    return o;
  });
  // the progress messages with the id under another key, as counted on the monitor
  const lostC = result.filter((w) => w.plan === 'publish-release-notes').length;
  if ((idlessProgress['publish-release-notes'] || 0) !== lostC) absent.push({ plan: 'publish-release-notes', symptom: 'correlation-lost', note: `monitor logged ${idlessProgress['publish-release-notes'] || 0} id-less progress lines for ${lostC} workflows` });

  const ghostAffected = result.filter((w) => w.expect.includes('ws-ghost-agent')).map((w) => w.id);
  const recovered = [];
  for (const a of ['agent-1', 'agent-2', 'agent-3', 'agent-4']) {
    if (a === cfg.ghost) continue;
    const n = files[`${a}.log`].filter((s) => s.includes('monitor connection error') && s.includes('ECONNREFUSED')).length;
    if (n) recovered.push({ what: 'econnrefused', service: a, count: n, note: 'monitor restart: reconnect attempts refused, then "connected to monitor"' });
  }
  for (const e of events) if (e.agent) recovered.push({ what: 'ws-reconnect', service: e.agent, count: 1, note: `SIGSTOP 3 s at ~${e.t} s: socket terminated by the monitor, reconnected` });

  const rel = (p) => path.relative(out, p);
  const byRaw = {};
  for (const s of sinks) (byRaw[rel(s.rawFile)] = byRaw[rel(s.rawFile)] || []).push(s);
  const proc = (file, logger, idField, extra = {}) => ({
    file, logger, shape: extra.shape || null, id_field: idField, relay_field: extra.relay || null,
    docker: (byRaw[file] || []).map((s) => rel(s.dockerFile)), cri: (byRaw[file] || []).map((s) => rel(s.criFile)),
  });
  const processes = [];
  for (const g of ['manager', 'agent-1', 'agent-2', 'agent-3', 'agent-4', 'monitor']) {
    processes.push(proc(`raw/${g}.log`, LOGGER_NAME[cfg.shape[g].logger], cfg.shape[g].idField, { shape: cfg.shape[g].logger, relay: cfg.relay[g] }));
  }
  const kidsFiles = Object.keys(files).filter((f) => f.startsWith('child-'));
  processes.push({
    file: 'raw/child-<pid>.log', logger: LOGGER_NAME[cfg.shape.worker.logger], shape: cfg.shape.worker.logger, id_field: cfg.shape.worker.idField, relay_field: null,
    count: kidsFiles.length, docker: 'docker/containers/<agent pod>_fleet_worker-<pid>-<id>.log', cri: 'cri/pods/fleet_<agent pod>_<uid>/worker-<pid>/0.log',
    note: `workers of ${Object.keys(cfg.relay).join(' and ')} have no own file: stdout in the agent's file, stderr relayed in a field`,
  });
  processes.push(proc('raw/model-api.log', 'pino', 'correlationId', { shape: 'pino' }));
  processes.push(proc('raw/tool-api.log', 'pino', 'correlationId', { shape: 'pino' }));

  return {
    seed,
    workflows: result,
    service: [{ symptom: 'ws-ghost-agent', service: cfg.ghost, affected: ghostAffected }],
    recovered,
    processes,
    incidents: events,
    killed_pids: killed,
    zombie_pids: zombies,
    absent,
  };
}

// re-check a TRUTH.json against raw/
function verify(out) {
  const t = JSON.parse(fs.readFileSync(path.join(out, 'TRUTH.json'), 'utf8'));
  const files = readRaw(out);
  const idx = new Map();
  t.workflows.forEach((w, i) => { for (const id of w.ids) idx.set(id, i); });
  const childOf = new Map();
  t.workflows.forEach((w, i) => { for (const p of w.child_pids || []) childOf.set(p, i); });
  const per = linesOf(files, idx, childOf);
  const bad = [];
  t.workflows.forEach((w, i) => {
    const lines = per.get(i) || [];
    if (lines.length !== w.events) bad.push(`${w.id}: events ${w.events} but ${lines.length} lines`);
    for (const sym of w.expect) {
      let ok;
      if (sym === 'pg-deadlock' && w.pair !== undefined) ok = t.workflows.some((x) => x.pair === w.pair && x.ids.some((id) => Object.values(files).some((ls) => ls.some((s) => s.includes(id) && DETECT[sym](s)))));
      else if (DETECT[sym]) ok = lines.some((l) => DETECT[sym](l.s));
      else if (sym === 'zombie-child') ok = lines.some((l) => l.f.startsWith('child-') && l.s.includes('worker heartbeat'));
      else if (sym === 'correlation-lost') {
        ok = w.ids.length > 1 || lines.some((l) => l.f.startsWith('child-') && !(l.s.match(UUID) || []).length)
          || (w.plan === 'publish-release-notes' && files['monitor.log'].some((s) => s.includes('task progress') && s.includes(w.plan) && !(s.match(UUID) || []).length));
      }
      if (!ok) bad.push(`${w.id} (${w.plan}): no evidence of ${sym}`);
    }
  });
  for (const s of t.service) for (const id of s.affected) {
    const w = t.workflows.find((x) => x.id === id);
    if (!w || !files[`${s.service}.log`].some((l) => w.ids.some((i) => l.includes(i)) && DETECT[s.symptom](l))) bad.push(`service ${s.symptom}: ${id} has no line on ${s.service}`);
  }
  for (const r of t.recovered.filter((x) => x.what === 'econnrefused')) {
    const n = files[`${r.service}.log`].filter((s) => s.includes('monitor connection error') && s.includes('ECONNREFUSED')).length;
    const back = files[`${r.service}.log`].filter((s) => s.includes('connected to monitor')).length;
    if (n !== r.count || back < 2) bad.push(`recovered ${r.service}: ${n} refused, ${back} connects`);
  }
  return bad;
}

module.exports = { build, verify, DETECT };

if (require.main === module) {
  let fail = 0;
  for (const d of process.argv.slice(2)) {
    const bad = verify(d);
    const t = JSON.parse(fs.readFileSync(path.join(d, 'TRUTH.json'), 'utf8'));
    const n = {};
    for (const w of t.workflows) for (const s of w.expect) n[s] = (n[s] || 0) + 1;
    console.log(`${d}: ${t.workflows.length} workflows, ${t.workflows.filter((w) => !w.expect.length).length} healthy, expect ${JSON.stringify(n)}, absent ${t.absent.length}, problems ${bad.length}`);
    for (const b of bad) console.log('  ' + b);
    if (bad.length) fail = 1;
  }
  process.exit(fail);
}
