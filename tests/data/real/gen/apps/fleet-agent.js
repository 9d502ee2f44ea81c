'use strict';
// Fleet agent: an express service; POST /tasks runs one workflow step of the
// manager (X-Request-ID = correlation id) following the plan configured for
// the workflow's name (PLANS, JSON). A plan may:
//   ledger: {holdMs}             a PostgreSQL transaction moving params.amount
//                                from params.from to params.to (retried on 40P01)
//   report: {queries}            parallel queries as the reporting role (own pool)
//   model:  {model, timeoutMs}   POST the model API with fetch + AbortSignal.timeout
//   tool:   {mode}               POST the tool API (fetch, or http.request with TOOL_CLIENT=http)
//   spawn:  {cmd, args, nodeArgs, opts, workspace, propagate, background}
//                                one child process; its stdout+stderr go to child-<pid>.log;
//                                CORRELATION_ID is passed unless propagate:false;
//                                a background child is answered 202 and left running
//   persist: true                INSERT the result row
// The agent keeps a WebSocket to the monitor (MONITOR_WS) with a heartbeat
// every second; RECONNECT=1 reconnects with backoff after a close, otherwise
// the close is only logged.
//   PORT, AGENT_NAME, LOGGER=pino|winston, MAX_CONCURRENT, PGPORT, MODEL_URL, TOOL_API,
//   WORKSPACE, ON_SIGTERM=kill-children|leave-children
const http = require('http');
const path = require('path');
const express = require('express');
const pg = require('pg');
const { randomUUID } = require('crypto');
const WebSocket = require('ws');
const { mkPino, mkWinston } = require('../lib/log');
const { spawnLogged } = require('../lib/childlog');

const NAME = process.env.AGENT_NAME;
const OUT = process.env.SCENARIO_OUT;
const PLANS = JSON.parse(process.env.PLANS);
const useWinston = process.env.LOGGER === 'winston';
const MAX_CONCURRENT = Number(process.env.MAX_CONCURRENT || 3);
const RECONNECT = process.env.RECONNECT === '1';
const ON_SIGTERM = process.env.ON_SIGTERM || 'kill-children';
const TOOL_CLIENT = process.env.TOOL_CLIENT || 'fetch';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const pgConf = { host: '127.0.0.1', port: Number(process.env.PGPORT), database: 'agents' };
const pool = new pg.Pool({ ...pgConf, user: 'agent', max: 3 });

// The same calls for both loggers, each in its own idiom: pino
// l.info({...fields, err}, msg); winston l.info(msg, meta) and, with
// format.errors({stack:true}), l.error(msg, err) with the fields merged in.
const base = useWinston ? mkWinston(NAME) : mkPino(NAME);
function wrap(l) {
  if (!useWinston) return { debug: (o, m) => l.debug(o, m), info: (o, m) => l.info(o, m), warn: (o, m) => l.warn(o, m), error: (o, m) => l.error(o, m) };
  const w = (lvl) => (o, m) => {
    const { err, ...rest } = o || {};
    return err ? l[lvl](m, Object.assign(err, rest)) : l[lvl](m, rest);
  };
  return { debug: w('debug'), info: w('info'), warn: w('warn'), error: w('error') };
}
const top = wrap(base);
const wlog = (id) => wrap(useWinston ? base.child({ requestId: id }) : base.child({ correlationId: id }));

const app = express();
app.use(express.json());
if (useWinston) {
  app.use((req, res, next) => { // request logging middleware (morgan-like, JSON via winston)
    req.id = req.headers['x-request-id'] || randomUUID();
    res.setHeader('X-Request-ID', req.id);
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const meta = { requestId: req.id, method: req.method, url: req.originalUrl, statusCode: res.statusCode, responseTimeMs: Number(process.hrtime.bigint() - t0) / 1e6 };
      if (res.statusCode >= 500) base.error('request completed', meta); else if (res.statusCode >= 400) base.warn('request completed', meta); else base.info('request completed', meta);
    });
    next();
  });
} else {
  app.use(require('pino-http')({
    logger: base,
    genReqId: (req, res) => { const id = req.headers['x-request-id'] || randomUUID(); res.setHeader('X-Request-ID', id); return id; },
    customProps: (req) => ({ correlationId: req.id }),
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  }));
}

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
      await sleep(spec.holdMs); // fee calculation while the first row is locked
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

function runChild(l, id, workflow, spec, steps) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const k of ['PLANS', 'CORRELATION_ID']) delete env[k];
    if (spec.propagate !== false) env.CORRELATION_ID = id;
    const cmd = spec.cmd || 'node';
    const args = spec.cmd ? [...(spec.args || [])]
      : [...(spec.nodeArgs || []), path.join('apps', 'worker.js'), '--task', workflow, '--steps', String(steps), ...(spec.args || [])];
    const opts = { ...(spec.opts || {}), env };
    if (spec.workspace) opts.cwd = process.env.WORKSPACE;
    let child;
    try {
      child = spawnLogged(OUT, cmd, args, opts);
    } catch (err) { // EINVAL and friends are thrown synchronously by spawn()
      l.error({ err, tool: cmd }, 'spawn failed');
      return reject(new StepError('spawn'));
    }
    const t0 = Date.now();
    child.on('error', (err) => { // ENOENT / EACCES arrive as 'error' events
      l.error({ err, tool: cmd }, 'spawn failed');
      reject(new StepError('spawn'));
    });
    child.on('spawn', () => {
      l.info({ workflow, childPid: child.pid, cmd, args, propagateCorrelationId: spec.propagate !== false, background: !!spec.background }, 'child spawned');
      if (spec.background) { background.set(child.pid, { child, workflow, l }); resolve({ childPid: child.pid, background: true }); }
    });
    child.on('exit', (code, signal) => {
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

app.get('/healthz', (req, res) => res.json({ ok: true, busy }));
app.post('/tasks', async (req, res) => {
  if (busy >= MAX_CONCURRENT) { res.setHeader('Retry-After', '1'); return res.status(429).json({ error: 'agent busy', busy }); }
  const { workflow, text, steps, params } = req.body;
  const plan = PLANS[workflow];
  if (!plan) return res.status(400).json({ error: 'unknown workflow', workflow });
  busy++;
  const l = wlog(req.id);
  const t0 = Date.now();
  let done;
  const running = new Promise((r) => { done = r; });
  inflight.add(running);
  try {
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
    res.status(r.background ? 202 : 200).json({ ok: true, ...r });
  } catch (err) {
    if (!(err instanceof StepError)) l.error({ err, workflow }, 'task crashed');
    else l.error({ workflow, failedStep: err.message, durationMs: Date.now() - t0 }, 'task failed');
    res.status(500).json({ ok: false, failedStep: err.message, ...(err.result || {}) });
  } finally {
    busy--;
    inflight.delete(running);
    done();
  }
});

const srv = app.listen(Number(process.env.PORT), '127.0.0.1', () => top.info({ port: srv.address().port, maxConcurrent: MAX_CONCURRENT, workflows: Object.keys(PLANS).length, reconnect: RECONNECT, onSigterm: ON_SIGTERM }, 'agent listening'));

// monitor connection + heartbeats
let ws;
let seq = 0;
let attempt = 0;
function connect() {
  ws = new WebSocket(process.env.MONITOR_WS, { headers: { 'x-agent-id': NAME } });
  ws.on('open', () => {
    if (attempt) top.info({ url: process.env.MONITOR_WS, attempt }, 'reconnected to monitor');
    else top.info({ url: process.env.MONITOR_WS }, 'connected to monitor');
    attempt = 0;
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
}, 1000);

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
