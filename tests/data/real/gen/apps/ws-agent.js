'use strict';
// Agent: keeps a websocket to the manager, sends heartbeats, runs tasks.
// RECONNECT=1: reconnect with exponential backoff; otherwise (the bug) it
// logs the close and just stays up, disconnected.
const { mkWinston } = require('../lib/log');
const WebSocket = require('ws');

const log = mkWinston(process.env.AGENT_ID);
const URL = process.env.MANAGER_WS;
const RECONNECT = process.env.RECONNECT === '1';
let ws;
let seq = 0;
let attempt = 0;

function connect() {
  ws = new WebSocket(URL, { headers: { 'x-agent-id': process.env.AGENT_ID } });
  ws.on('open', () => {
    if (attempt) log.info('reconnected to manager', { url: URL, attempt });
    else log.info('connected to manager', { url: URL });
    attempt = 0;
  });
  ws.on('message', (buf) => {
    const m = JSON.parse(buf);
    if (m.type !== 'task') return;
    const wl = log.child({ requestId: m.correlationId });
    wl.info('task received', { task: m.task });
    setTimeout(() => {
      wl.info('task finished', { task: m.task, ok: true });
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'result', correlationId: m.correlationId, ok: true }));
    }, 60);
  });
  ws.on('error', (err) => log.error('manager connection error', err));
  ws.on('close', (code, reason) => {
    log.warn('connection to manager closed', { code, reason: reason.toString(), wasClean: code !== 1006 });
    if (!RECONNECT) return;
    attempt++;
    const delayMs = Math.min(1000 * 2 ** (attempt - 1), 8000);
    log.info('reconnecting to manager', { attempt, delayMs });
    setTimeout(connect, delayMs);
  });
}

setInterval(() => {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'heartbeat', seq: ++seq }));
}, 300);

log.info('agent started', { manager: URL, reconnect: RECONNECT, heartbeatIntervalMs: 300 });
connect();
process.on('SIGTERM', () => {
  const connected = ws.readyState === WebSocket.OPEN;
  log.info('SIGTERM received, shutting down', { connected });
  if (!connected) process.exit(0);
  ws.removeAllListeners('close');
  ws.on('close', () => process.exit(0));
  ws.close(1000, 'agent shutting down');
});
