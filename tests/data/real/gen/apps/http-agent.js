'use strict';
// Agent HTTP service: POST /tasks runs one worker child per task.
//   PORT, AGENT_NAME, LOGGER=pino|winston, PROPAGATE=1 (pass CORRELATION_ID to the child), MANAGER_WS (heartbeats)
const path = require('path');
const express = require('express');
const { randomUUID } = require('crypto');
const WebSocket = require('ws');
const { mkPino, mkWinston } = require('../lib/log');
const { spawnLogged } = require('../lib/childlog');

const NAME = process.env.AGENT_NAME;
const OUT = process.env.SCENARIO_OUT;
const PROPAGATE = process.env.PROPAGATE === '1';
const useWinston = process.env.LOGGER === 'winston';
const app = express();
app.use(express.json());

let base;
if (useWinston) {
  base = mkWinston(NAME);
  app.use((req, res, next) => { // request logging middleware (morgan-like, JSON via winston)
    req.id = req.headers['x-request-id'] || randomUUID();
    res.setHeader('X-Request-ID', req.id);
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const meta = { requestId: req.id, method: req.method, url: req.originalUrl, statusCode: res.statusCode, responseTimeMs: Number(process.hrtime.bigint() - t0) / 1e6 };
      if (res.statusCode >= 500) base.error('request completed', meta); else if (res.statusCode >= 400) base.warn('request completed', meta); else base.info('request completed', meta);
    });
    req.log = { info: (o, m) => base.child({ requestId: req.id }).info(m, o), error: (o, m) => base.child({ requestId: req.id }).error(m, o) };
    next();
  });
} else {
  base = mkPino(NAME);
  app.use(require('pino-http')({
    logger: base,
    genReqId: (req, res) => { const id = req.headers['x-request-id'] || randomUUID(); res.setHeader('X-Request-ID', id); return id; },
    customProps: (req) => ({ correlationId: req.id }),
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  }));
}
const info = (o, m) => (useWinston ? base.info(m, o) : base.info(o, m));

let busy = 0;
const MAX_CONCURRENT = 1;
app.get('/healthz', (req, res) => res.json({ ok: true, busy }));
app.get('/tasks/:id', (req, res) => res.status(404).json({ error: 'no such task', id: req.params.id }));
app.post('/tasks', (req, res) => {
  if (busy >= MAX_CONCURRENT) { res.setHeader('Retry-After', '1'); return res.status(429).json({ error: 'agent busy', busy }); }
  busy++;
  const { workflow, text, steps } = req.body;
  const env = { ...process.env };
  if (PROPAGATE) env.CORRELATION_ID = req.id; else delete env.CORRELATION_ID;
  const args = [path.join('apps', 'worker.js'), '--task', workflow, '--steps', String(steps || 3), '--text', text];
  const child = spawnLogged(OUT, 'node', args, { env });
  req.log.info({ workflow, childPid: child.pid, propagateCorrelationId: PROPAGATE }, 'spawning child');
  child.on('exit', (code, signal) => {
    busy--;
    req.log.info({ workflow, childPid: child.pid, code, signal }, 'child exited');
    res.json({ childPid: child.pid, code });
  });
});

const srv = app.listen(Number(process.env.PORT), '127.0.0.1', () => info({ port: srv.address().port, propagateCorrelationId: PROPAGATE, maxConcurrent: MAX_CONCURRENT }, 'agent listening'));

let ws;
if (process.env.MANAGER_WS) {
  let seq = 0;
  ws = new WebSocket(process.env.MANAGER_WS, { headers: { 'x-agent-id': NAME } });
  ws.on('error', (err) => (useWinston ? base.error('manager connection error', err) : base.error({ err }, 'manager connection error')));
  ws.on('open', () => info({ url: process.env.MANAGER_WS }, 'connected to manager'));
  ws.on('close', (code, reason) => info({ code, reason: reason.toString() }, 'manager connection closed'));
  setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', seq: ++seq, busy })); }, 500);
}
process.on('SIGTERM', () => {
  info({ busy }, 'SIGTERM received, shutting down');
  srv.close();
  if (ws && ws.readyState === WebSocket.OPEN) { ws.once('close', () => process.exit(0)); ws.close(1000, 'agent shutting down'); } else process.exit(0);
});
