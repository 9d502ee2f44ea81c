'use strict';
// Manager/orchestrator: dispatches workflows to agents over HTTP with
// X-Request-ID; optionally records them in PostgreSQL (PGPORT), accepts agent
// heartbeats over ws (WS_PORT) and serves a status API (API_PORT).
const { randomUUID } = require('crypto');
const express = require('express');
const { WebSocketServer } = require('ws');
const { mkPino } = require('../lib/log');

const log = mkPino('manager');
const AGENTS = JSON.parse(process.env.AGENTS); // [{name,url}]
const WF = JSON.parse(process.env.WORKFLOWS); // [{workflow,text,steps}]
const cfg = { requestTimeoutMs: 30000, maxRetries: 3, retryDelayMs: 200, batchSize: Number(process.env.BATCH || 1), heartbeatTimeoutMs: 5000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let pool = null;
if (process.env.PGPORT) {
  const pg = require('pg');
  pool = new pg.Pool({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: 'agent', database: 'agents', max: 3 });
}

let api;
if (process.env.API_PORT) {
  const app = express();
  app.use(require('pino-http')({
    logger: log,
    genReqId: (req, res) => { const id = req.headers['x-request-id'] || randomUUID(); res.setHeader('X-Request-ID', id); return id; },
    customProps: (req) => ({ correlationId: req.id }),
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  }));
  app.get('/workflows/:id', async (req, res) => {
    const r = await pool.query('SELECT id, task, agent, status FROM workflows WHERE id::text = $1', [req.params.id]);
    if (!r.rowCount) return res.status(404).json({ error: 'workflow not found' });
    res.json(r.rows[0]);
  });
  app.get('/workflows', async (req, res) => res.json((await pool.query('SELECT status, count(*)::int AS n FROM workflows GROUP BY status')).rows));
  api = app.listen(Number(process.env.API_PORT), '127.0.0.1', () => log.info({ port: Number(process.env.API_PORT) }, 'status api listening'));
}

let wss;
const connected = new Set();
if (process.env.WS_PORT) {
  wss = new WebSocketServer({ port: Number(process.env.WS_PORT), host: '127.0.0.1' });
  wss.on('listening', () => log.info({ port: Number(process.env.WS_PORT) }, 'agent gateway listening'));
  wss.on('connection', (ws, req) => {
    const agentId = req.headers['x-agent-id'];
    connected.add(agentId);
    log.info({ agentId, remoteAddress: req.socket.remoteAddress }, 'agent connected');
    ws.on('message', (b) => { const m = JSON.parse(b); log.debug({ agentId, seq: m.seq, busy: m.busy }, 'agent heartbeat'); });
    ws.on('close', (code, reason) => connected.delete(agentId) && log.info({ agentId, code, reason: reason.toString() }, 'agent disconnected'));
  });
}

async function dispatch(agent, wf, l, correlationId) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${agent.url}/tasks`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': correlationId },
      body: JSON.stringify(wf), signal: AbortSignal.timeout(cfg.requestTimeoutMs),
    });
    const body = await res.json();
    if (res.status === 429 && attempt < cfg.maxRetries) {
      l.info({ agent: agent.name, status: 429, attempt, retryInMs: cfg.retryDelayMs }, 'agent busy, will retry');
      await sleep(cfg.retryDelayMs);
      continue;
    }
    if (attempt > 1) l.info({ agent: agent.name, attempt, status: res.status }, 'retry succeeded');
    return { status: res.status, body };
  }
}

async function run(wf, i) {
  const correlationId = randomUUID();
  const agent = AGENTS[i % AGENTS.length];
  const l = log.child({ correlationId });
  const t0 = Date.now();
  l.info({ workflow: wf.workflow, text: wf.text, agent: agent.name }, 'workflow started');
  if (pool) await pool.query('INSERT INTO workflows (id, task, agent, status) VALUES ($1, $2, $3, $4)', [correlationId, wf.text, agent.name, 'running']);
  const r = await dispatch(agent, wf, l, correlationId);
  l.info({ agent: agent.name, status: r.status, childPid: r.body.childPid, childExitCode: r.body.code }, 'agent responded');
  if (pool) {
    const u = await pool.query("UPDATE workflows SET status = $2, finished_at = now() WHERE id = $1 RETURNING status", [correlationId, r.body.code === 0 ? 'succeeded' : 'failed']);
    l.debug({ rows: u.rowCount, status: u.rows[0].status }, 'workflow row updated');
  }
  l.info({ workflow: wf.workflow, durationMs: Date.now() - t0 }, 'workflow completed');
  return correlationId;
}

(async () => {
  log.info({ config: cfg, agents: AGENTS, pg: !!pool, workflows: WF.length }, 'manager started');
  if (wss) { // wait until every agent has registered over ws
    const t0 = Date.now();
    while (!AGENTS.every((a) => connected.has(a.name)) && Date.now() - t0 < 15000) await sleep(50);
    log.info({ agents: [...connected], waitedMs: Date.now() - t0 }, 'agents registered');
  }
  const ids = [];
  for (let i = 0; i < WF.length; i += cfg.batchSize) {
    ids.push(...await Promise.all(WF.slice(i, i + cfg.batchSize).map((wf, j) => run(wf, i + j))));
  }
  log.info({ workflows: ids.length }, 'all workflows finished');
  if (process.env.IDS_FILE) require('fs').writeFileSync(process.env.IDS_FILE, JSON.stringify(ids));
})().catch((err) => { log.fatal({ err }, 'orchestrator crashed'); process.exit(1); });

process.on('SIGTERM', async () => {
  log.info('SIGTERM received, shutting down');
  if (api) { api.close(); api.closeAllConnections(); }
  if (wss) wss.close();
  if (pool) await pool.end();
  log.info('shutdown complete');
  process.exit(0);
});
