'use strict';
// Shapes agent: apps/fleet-agent.js with a configurable logger shape and id
// field (lib/shapes-log.js). Same plans (PLANS, JSON): ledger, report, model,
// tool, spawn, persist; and in addition:
//   - every task reports {type:'progress', correlationId, workflow, stage} to the
//     monitor over the WebSocket; a plan with progressKey sends the id under
//     that key instead (an older reporter: the monitor reads correlationId)
//   - a request without X-Request-ID gets a fresh id (randomUUID)
//   - children: with RELAY_FIELD (line | data | chunk) a worker's stdout is the
//     agent's stdout (inherited) and its stderr is a pipe the agent relays as
//     log lines on the task's logger, the text in that field ('line': one log
//     line per text line, 'data' and 'chunk': each 'data' event as it came);
//     without it stdout and stderr go to <SPOOL_DIR>/<agent>/child-<pid>.stdout
//     and .stderr (the harness tails them into the corpus)
//   - RECONNECT=1: a monitor client that reconnects with backoff and queues
//     progress messages while disconnected; RECONNECT=0: a bare client that
//     sends whatever the socket's state and only logs a close
//   PORT, AGENT_NAME, LOG_SHAPE, LOG_ID_FIELD, WORKER_LOG_SHAPE, WORKER_ID_FIELD,
//   RELAY_FIELD, MAX_CONCURRENT, PGPORT, MODEL_URL, TOOL_API, TOOL_CLIENT=fetch|http,
//   WORKSPACE, MONITOR_WS, HEARTBEAT_MS, ON_SIGTERM=kill-children|leave-children
const fs = require('fs');
const http = require('http');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const express = require('express');
const pg = require('pg');
const { randomUUID } = require('crypto');
const WebSocket = require('ws');
const { create, idObj } = require('../lib/shapes-log');
const { spawnSpooled } = require('../lib/childlog');

const NAME = process.env.AGENT_NAME;
const PLANS = JSON.parse(process.env.PLANS);
const MAX_CONCURRENT = Number(process.env.MAX_CONCURRENT || 3);
const RECONNECT = process.env.RECONNECT === '1';
const ON_SIGTERM = process.env.ON_SIGTERM || 'kill-children';
const TOOL_CLIENT = process.env.TOOL_CLIENT || 'fetch';
const RELAY = process.env.RELAY_FIELD || '';
const SPOOL = process.env.SPOOL_DIR ? path.join(process.env.SPOOL_DIR, NAME) : null;
const HEARTBEAT_MS = Number(process.env.HEARTBEAT_MS || 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
if (SPOOL) fs.mkdirSync(SPOOL, { recursive: true });

// ground truth for the generator only (which ids an agent used for which job); not a log
function truth(o) { if (process.env.GEN_TRUTH_FILE) fs.appendFileSync(process.env.GEN_TRUTH_FILE, JSON.stringify({ agent: NAME, ...o }) + '\n'); }

const pgConf = { host: '127.0.0.1', port: Number(process.env.PGPORT), database: 'agents' };
const pool = new pg.Pool({ ...pgConf, user: 'agent', max: 3 });

const top = create(NAME);
const wlog = (id) => top.withId(id);

const app = express();
if (top.shape.startsWith('pino')) {
  app.use(require('pino-http')({
    logger: top.base,
    genReqId: (req, res) => {
      const id = req.headers['x-request-id'] || randomUUID();
      req.idMinted = !req.headers['x-request-id'];
      res.setHeader('X-Request-ID', id);
      return id;
    },
    customProps: (req) => idObj(top.idField, req.id),
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  }));
} else {
  app.use((req, res, next) => { // request logging middleware (morgan-like, JSON through the app's logger)
    req.id = req.headers['x-request-id'] || randomUUID();
    req.idMinted = !req.headers['x-request-id'];
    res.setHeader('X-Request-ID', req.id);
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const l = wlog(req.id);
      const meta = { method: req.method, url: req.originalUrl, statusCode: res.statusCode, responseTimeMs: Number(process.hrtime.bigint() - t0) / 1e6 };
      if (res.statusCode >= 500) l.error(meta, 'request completed'); else if (res.statusCode >= 400) l.warn(meta, 'request completed'); else l.info(meta, 'request completed');
    });
    next();
  });
}
app.use(express.json());

let busy = 0;
const background = new Map(); // pid -> {child, workflow, l}
const inflight = new Set();

class StepError extends Error {}

async function ledger(l, spec, p) {
  for (let attempt = 1; ; attempt++) {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [p.from, p.amount]);
      await sleep(p.holdMs || spec.holdMs); // fee calculation while the first row is locked
      await c.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [p.to, p.amount]);
      await c.query('COMMIT');
      l.info({ from: p.from, to: p.to, amount: p.amount, attempt }, attempt > 1 ? 'transaction committed after retry' : 'transaction committed');
      return;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      if (err.code === '40P01' && attempt < 3) {
        l.warn({ err, attempt, retryInMs: 100 * attempt }, 'deadlock detected, retrying transaction');
        await sleep(100 * attempt);
        continue;
      }
      l.error({ err, attempt }, 'transaction failed');
      throw new StepError('ledger');
    } finally { c.release(); }
  }
}

async function report(l, spec) {
  const rp = new pg.Pool({ ...pgConf, user: 'agent_ro', max: spec.queries });
  const t0 = Date.now();
  try {
    const rs = await Promise.all(Array.from({ length: spec.queries }, () => rp.query('SELECT pg_sleep(0.2), count(*)::int AS n FROM accounts')));
    l.info({ queries: spec.queries, rows: rs[0].rows[0].n, durationMs: Date.now() - t0 }, 'report generated');
  } catch (err) {
    l.error({ err, pool: { total: rp.totalCount, idle: rp.idleCount, waiting: rp.waitingCount } }, 'report query failed');
    throw new StepError('report');
  } finally { await rp.end().catch(() => {}); }
}

async function model(l, id, spec, text) {
  const t0 = Date.now();
  try {
    const res = await fetch(`${process.env.MODEL_URL}/v1/complete`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: spec.model, prompt: text }), signal: AbortSignal.timeout(spec.timeoutMs),
    });
    const body = await res.json();
    l.info({ model: spec.model, status: res.status, tokens: body.tokens, durationMs: Date.now() - t0 }, 'model call done');
  } catch (err) {
    l.error({ err, model: spec.model, timeoutMs: spec.timeoutMs, durationMs: Date.now() - t0 }, 'model call failed');
    throw new StepError('model');
  }
}

function httpPost(url, id, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' } }, (res) => {
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function tool(l, id, spec, workflow) {
  const url = `${process.env.TOOL_API}/v1/run?mode=${spec.mode}`;
  const body = JSON.stringify({ tool: workflow });
  try {
    const r = TOOL_CLIENT === 'http' ? await httpPost(url, id, body)
      : await fetch(url, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' }, body }).then(async (x) => ({ status: x.status, body: await x.text() }));
    l.info({ tool: workflow, status: r.status }, 'tool call done');
  } catch (err) {
    l.error({ err, tool: workflow }, 'tool call failed');
    throw new StepError('tool');
  }
}

// stderr of a child as log lines of the task
function relay(l, child) {
  const f = { childPid: child.pid, stream: 'stderr' };
  if (RELAY === 'line') {
    readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (s) => l.warn({ ...f, line: s }, 'worker stderr'));
  } else {
    child.stderr.on('data', (d) => l.warn({ ...f, [RELAY]: d.toString('utf8') }, 'worker stderr'));
  }
}

function runChild(l, id, workflow, spec, steps) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const k of ['PLANS', 'CORRELATION_ID', 'GEN_TRUTH_FILE', 'SPOOL_DIR']) delete env[k];
    if (spec.propagate !== false) env.CORRELATION_ID = id;
    const cmd = spec.cmd || 'node';
    const args = spec.cmd ? [...(spec.args || [])]
      : [...(spec.nodeArgs || []), path.join('apps', 'shapes-worker.js'), '--task', workflow, '--steps', String(steps), ...(spec.args || [])];
    const opts = { ...(spec.opts || {}), env };
    if (spec.workspace) opts.cwd = process.env.WORKSPACE;
    let child;
    try {
      child = RELAY ? spawn(cmd, args, { ...opts, stdio: ['ignore', 'inherit', 'pipe'] }) : spawnSpooled(SPOOL, cmd, args, opts);
    } catch (err) { // EINVAL and friends are thrown synchronously by spawn()
      l.error({ err, tool: cmd }, 'spawn failed');
      return reject(new StepError('spawn'));
    }
    if (RELAY && child.stderr) relay(l, child);
    const t0 = Date.now();
    child.on('error', (err) => { // ENOENT / EACCES arrive as 'error' events
      l.error({ err, tool: cmd }, 'spawn failed');
      reject(new StepError('spawn'));
    });
    child.on('spawn', () => {
      l.info({ workflow, childPid: child.pid, cmd, args, propagateCorrelationId: spec.propagate !== false, background: !!spec.background }, 'child spawned');
      if (spec.background) { background.set(child.pid, { child, workflow, l }); resolve({ childPid: child.pid, background: true }); }
    });
    // 'close' (not 'exit'): with a relayed stderr, wait for its last chunk
    child.on(RELAY ? 'close' : 'exit', (code, signal) => {
      if (!child.pid) return;
      const o = { workflow, childPid: child.pid, code, signal, runtimeMs: Date.now() - t0 };
      if (spec.background) {
        background.delete(child.pid);
        if (code === 0 || signal === 'SIGTERM') l.info(o, 'child exited'); else l.error(o, 'child exited');
        return;
      }
      if (code === 0) { l.info(o, 'child exited'); resolve({ childPid: child.pid, code, signal }); } else {
        l.error(o, 'child exited');
        const e = new StepError('child');
        e.result = { childPid: child.pid, code, signal };
        reject(e);
      }
    });
  });
}

// monitor connection + heartbeats + progress
let ws;
let seq = 0;
let attempt = 0;
const queued = [];
function connect() {
  ws = new WebSocket(process.env.MONITOR_WS, { headers: { 'x-agent-id': NAME } });
  ws.on('open', () => {
    top.info({ url: process.env.MONITOR_WS, ...(attempt ? { attempt } : {}) }, 'connected to monitor');
    attempt = 0;
    while (queued.length) ws.send(queued.shift());
  });
  ws.on('error', (err) => top.error({ err }, 'monitor connection error'));
  ws.on('close', (code, reason) => {
    top.warn({ code, reason: reason.toString() }, 'monitor connection closed');
    if (!RECONNECT) return;
    attempt++;
    const delayMs = Math.min(1000 * 2 ** (attempt - 1), 8000);
    top.info({ attempt, delayMs }, 'reconnecting to monitor');
    setTimeout(connect, delayMs);
  });
}
connect();
setInterval(() => {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', seq: ++seq, busy, children: background.size }));
}, HEARTBEAT_MS);

function progress(l, id, workflow, stage, key) {
  const msg = JSON.stringify({ type: 'progress', [key || 'correlationId']: id, agent: NAME, workflow, stage });
  if (RECONNECT) {
    if (ws.readyState === WebSocket.OPEN) ws.send(msg); else if (queued.length < 100) queued.push(msg);
    return;
  }
  ws.send(msg, (err) => { if (err) l.error({ err, workflow, stage }, 'progress report failed'); });
}

app.get('/healthz', (req, res) => res.json({ ok: true, busy }));
app.post('/tasks', async (req, res) => {
  const { workflow, text, steps, params, job } = req.body;
  if (busy >= MAX_CONCURRENT) {
    truth({ job, id: req.id, minted: req.idMinted, status: 429 });
    res.setHeader('Retry-After', '1');
    return res.status(429).json({ error: 'agent busy', busy });
  }
  const plan = PLANS[workflow];
  if (!plan) return res.status(400).json({ error: 'unknown workflow', workflow });
  busy++;
  const l = wlog(req.id);
  const t0 = Date.now();
  let done;
  const running = new Promise((r) => { done = r; });
  inflight.add(running);
  let status = 500;
  try {
    l.info({ workflow, steps }, 'task accepted');
    progress(l, req.id, workflow, 'started', plan.progressKey);
    if (plan.ledger) await ledger(l, plan.ledger, params);
    if (plan.report) await report(l, plan.report);
    if (plan.model) await model(l, req.id, plan.model, text);
    if (plan.tool) await tool(l, req.id, plan.tool, workflow);
    let r = {};
    if (plan.spawn) r = await runChild(l, req.id, workflow, plan.spawn, steps || 3);
    if (plan.persist) {
      await pool.query('INSERT INTO results (correlation_id, agent, workflow, child_pid) VALUES ($1, $2, $3, $4)', [req.id, NAME, workflow, r.childPid || null]);
      l.debug({ workflow }, 'result persisted');
    }
    l.info({ workflow, durationMs: Date.now() - t0 }, r.background ? 'task handed off to background child' : 'task finished');
    status = r.background ? 202 : 200;
    res.status(status).json({ ok: true, ...r });
  } catch (err) {
    if (!(err instanceof StepError)) l.error({ err, workflow }, 'task crashed');
    else l.error({ workflow, failedStep: err.message, durationMs: Date.now() - t0 }, 'task failed');
    res.status(500).json({ ok: false, failedStep: err.message, ...(err.result || {}) });
  } finally {
    truth({ job, id: req.id, minted: req.idMinted, status });
    busy--;
    inflight.delete(running);
    done();
  }
});

const srv = app.listen(Number(process.env.PORT), '127.0.0.1', () => top.info({ port: srv.address().port, maxConcurrent: MAX_CONCURRENT, workflows: Object.keys(PLANS).length, reconnect: RECONNECT, onSigterm: ON_SIGTERM, relayStderr: RELAY || null }, 'agent listening'));

process.on('SIGTERM', async () => {
  top.info({ busy, backgroundChildren: [...background.keys()], policy: ON_SIGTERM }, 'SIGTERM received, shutting down');
  srv.close();
  await Promise.all([...inflight]);
  if (ON_SIGTERM === 'kill-children') {
    const waits = [];
    for (const [pid, b] of background) {
      b.l.info({ childPid: pid, workflow: b.workflow }, 'stopping background child');
      waits.push(new Promise((r) => b.child.once('exit', r)));
      b.child.kill('SIGTERM');
    }
    await Promise.all(waits);
  }
  await pool.end();
  const finish = () => { top.info({ remainingChildren: background.size }, 'shutdown complete'); setTimeout(() => process.exit(0), 50); };
  if (ws.readyState === WebSocket.OPEN) {
    ws.removeAllListeners('close');
    ws.once('close', finish);
    ws.close(1000, 'agent shutting down');
  } else finish();
});
