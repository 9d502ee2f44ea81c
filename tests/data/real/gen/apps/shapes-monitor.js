'use strict';
// Shapes monitor: apps/fleet-monitor.js with a configurable logger shape and
// id field (lib/shapes-log.js). Agents keep a WebSocket to it, send heartbeats
// and {type:'progress', correlationId, workflow, stage} messages; the monitor
// logs each progress message under the message's correlationId (absent if
// the sender put the id under another key). It pings each connection (no pong
// by the next ping -> terminate()), reports agents whose heartbeats stop, and
// lists EXPECTED_AGENTS that are not connected in its fleet status. On
// SIGTERM it closes every socket with 1001 "server shutdown" and exits.
//   PORT, PING_INTERVAL_MS (1000), HEARTBEAT_TIMEOUT_MS (6000), EXPECTED_AGENTS, LOG_SHAPE, LOG_ID_FIELD
const { WebSocketServer } = require('ws');
const { create } = require('../lib/shapes-log');

const log = create('monitor');
const PORT = Number(process.env.PORT);
const PING_MS = Number(process.env.PING_INTERVAL_MS || 1000);
const HB_TIMEOUT = Number(process.env.HEARTBEAT_TIMEOUT_MS || 6000);
const EXPECTED = JSON.parse(process.env.EXPECTED_AGENTS || '[]');
const agents = new Map(); // agent -> {ws, lastSeen, missed, offline, disconnectedAt}

const wss = new WebSocketServer({ port: PORT, host: '127.0.0.1' });
wss.on('listening', () => log.info({ port: PORT, pingIntervalMs: PING_MS, heartbeatTimeoutMs: HB_TIMEOUT, expectedAgents: EXPECTED }, 'monitor listening'));
wss.on('connection', (ws, req) => {
  const agent = req.headers['x-agent-id'];
  const prev = agents.get(agent);
  ws.isAlive = true;
  ws.on('pong', () => { ws.isAlive = true; });
  if (prev && prev.disconnectedAt) {
    log.info({ agent, downMs: Date.now() - prev.disconnectedAt, missed: prev.missed, remotePort: req.socket.remotePort }, 'agent reconnected');
  } else {
    log.info({ agent, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort }, 'agent connected');
  }
  const a = { ws, lastSeen: Date.now(), missed: 0, offline: false, disconnectedAt: null };
  agents.set(agent, a);
  ws.on('message', (buf) => {
    const m = JSON.parse(buf);
    a.lastSeen = Date.now();
    if (m.type === 'heartbeat') log.debug({ agent, seq: m.seq, busy: m.busy, children: m.children }, 'heartbeat');
    else if (m.type === 'progress') log.withId(m.correlationId).info({ agent, workflow: m.workflow, stage: m.stage }, 'task progress');
  });
  ws.on('close', (code, reason) => {
    if (agents.get(agent) !== a) return;
    if (code === 1000) {
      agents.delete(agent);
      log.info({ agent, code, reason: reason.toString() }, 'agent disconnected');
      log.info({ agent }, 'agent deregistered');
      return;
    }
    a.ws = null;
    a.disconnectedAt = Date.now();
    log.warn({ agent, code, reason: reason.toString() }, 'agent disconnected');
  });
});

// ws liveness: ping every PING_MS, terminate a connection that did not pong.
setInterval(() => {
  for (const [agent, a] of agents) {
    const ws = a.ws;
    if (!ws) continue;
    if (!ws.isAlive) {
      log.warn({ agent, lastSeenMsAgo: Date.now() - a.lastSeen }, 'agent did not answer ping, terminating connection');
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, PING_MS);

// heartbeats
setInterval(() => {
  for (const [agent, a] of agents) {
    const age = Date.now() - a.lastSeen;
    if (age <= HB_TIMEOUT) continue;
    a.missed++;
    if (a.missed < 3) log.warn({ agent, lastSeenMsAgo: age, missed: a.missed, connected: !!a.ws }, 'agent heartbeat missed');
    else if (a.missed === 3) { a.offline = true; log.error({ agent, lastSeenMsAgo: age, missed: a.missed, connected: !!a.ws }, 'agent missing: no heartbeat, marking offline'); }
  }
}, 2000);

const started = Date.now();
setInterval(() => {
  const online = [];
  const offline = [];
  for (const [agent, a] of agents) (a.ws && !a.offline ? online : offline).push(agent);
  const neverConnected = EXPECTED.filter((x) => !agents.has(x));
  if (neverConnected.length && Date.now() - started > 15000) log.warn({ online, offline, notConnected: neverConnected }, 'fleet status: expected agents not connected');
  else log.info({ online, offline }, 'fleet status');
}, 10000);

process.on('SIGTERM', () => {
  log.info({ agents: [...agents.keys()] }, 'SIGTERM received, shutting down');
  for (const a of agents.values()) if (a.ws) a.ws.close(1001, 'server shutdown');
  wss.close();
  setTimeout(() => process.exit(0), 300);
});
