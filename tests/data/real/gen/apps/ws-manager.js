'use strict';
// Manager: ws server that agents connect to; dispatches tasks, tracks agent
// heartbeats, persists its agent registry so a restarted manager knows which
// agents it expects.
const fs = require('fs');
const { randomUUID } = require('crypto');
const { WebSocketServer } = require('ws');
const { mkPino } = require('../lib/log');

const log = mkPino('manager');
const PORT = Number(process.env.PORT);
const STATE = process.env.STATE_FILE;
const HB_TIMEOUT = Number(process.env.HEARTBEAT_TIMEOUT_MS || 3000);
const TASK_EVERY = Number(process.env.TASK_EVERY_MS || 400);

let registry = {};
try { registry = JSON.parse(fs.readFileSync(STATE, 'utf8')); } catch (_) { /* first start */ }
const live = new Map(); // agentId -> ws
const pending = new Map(); // correlationId -> {agentId, t0}
const save = () => fs.writeFileSync(STATE, JSON.stringify(registry));

const wss = new WebSocketServer({ port: PORT, host: '127.0.0.1' });
wss.on('listening', () => log.info({ port: PORT, heartbeatTimeoutMs: HB_TIMEOUT, knownAgents: Object.keys(registry) }, 'manager started'));
wss.on('connection', (ws, req) => {
  const agentId = req.headers['x-agent-id'];
  const prev = registry[agentId];
  registry[agentId] = { lastSeen: Date.now(), missed: 0 };
  save();
  live.set(agentId, ws);
  log.info({ agentId, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, known: !!prev }, 'agent connected');
  ws.on('message', (buf) => {
    const m = JSON.parse(buf);
    const r = registry[agentId];
    r.lastSeen = Date.now();
    if (r.missed) { log.info({ agentId, missed: r.missed }, 'agent heartbeat resumed'); r.missed = 0; }
    save();
    if (m.type === 'heartbeat') log.debug({ agentId, seq: m.seq }, 'heartbeat');
    if (m.type === 'result') {
      const p = pending.get(m.correlationId);
      pending.delete(m.correlationId);
      log.info({ agentId, correlationId: m.correlationId, ok: m.ok, durationMs: p ? Date.now() - p.t0 : null }, 'task completed');
    }
  });
  ws.on('close', (code, reason) => {
    live.delete(agentId);
    const lvl = code === 1000 || code === 1001 ? 'info' : 'warn';
    log[lvl]({ agentId, code, reason: reason.toString() }, 'agent disconnected');
  });
});

let n = 0;
setInterval(() => {
  const tasks = ['summarize build log', 'triage issue', 'update dependency', 'write release note'];
  const correlationId = randomUUID();
  const task = tasks[n++ % tasks.length];
  const [agentId, ws] = [...live.entries()][0] || [];
  if (!ws) { log.warn({ correlationId, task, knownAgents: Object.keys(registry) }, 'no connected agent for task, queued'); return; }
  pending.set(correlationId, { agentId, t0: Date.now() });
  ws.send(JSON.stringify({ type: 'task', correlationId, task }));
  log.info({ agentId, correlationId, task }, 'task dispatched');
}, TASK_EVERY);

setInterval(() => {
  for (const [agentId, r] of Object.entries(registry)) {
    const age = Date.now() - r.lastSeen;
    if (age <= HB_TIMEOUT) continue;
    r.missed++;
    save();
    if (r.missed < 3) log.warn({ agentId, lastSeenMsAgo: age, missed: r.missed, connected: live.has(agentId) }, 'agent heartbeat missed');
    else if (r.missed === 3) log.error({ agentId, lastSeenMsAgo: age, missed: r.missed, connected: live.has(agentId) }, 'agent missing: no heartbeat, marking offline');
  }
}, 1000);

process.on('SIGTERM', () => {
  log.info({ connectedAgents: [...live.keys()], pendingTasks: pending.size }, 'SIGTERM received, shutting down');
  wss.close(); for (const ws of live.values()) ws.close(1001, 'manager shutting down');
  setTimeout(() => process.exit(0), 100);
});
