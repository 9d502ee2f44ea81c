'use strict';
// Agent configured with hostnames that do not resolve.
const http = require('http');
const { randomUUID } = require('crypto');
const pg = require('pg');
const WebSocket = require('ws');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1');
const C = JSON.parse(process.env.DEPS);

async function workflow(name, fn) {
  const correlationId = randomUUID();
  const wl = log.child({ correlationId });
  wl.info({ workflow: name }, 'workflow started');
  try { await fn(wl, correlationId); wl.info({ workflow: name }, 'workflow completed'); } catch (err) { wl.error({ err, workflow: name }, 'workflow failed'); }
}

(async () => {
  log.info({ deps: C }, 'agent started');
  await new Promise((resolve) => {
    const ws = new WebSocket(C.managerWs);
    ws.on('open', resolve);
    ws.on('error', (err) => log.error({ err, url: C.managerWs }, 'manager websocket error'));
    ws.on('close', (code) => { log.warn({ code }, 'manager websocket closed'); resolve(); });
  });
  await workflow('summarize', async (wl, id) => {
    const r = await fetch(`${C.model}/v1/complete`, { method: 'POST', headers: { 'x-request-id': id }, body: '{}' });
    wl.info({ status: r.status }, 'model call done');
  });
  await workflow('push-metrics', async (wl, id) => {
    await new Promise((resolve, reject) => {
      const req = http.request(`${C.metrics}/api/v1/push`, { method: 'POST', headers: { 'x-request-id': id } }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end('{}');
    });
  });
  await workflow('record-result', async () => {
    const pool = new pg.Pool({ host: C.pgHost, port: 5432, user: 'agent', database: 'agents' });
    try { await pool.query('SELECT 1'); } finally { await pool.end(); }
  });
  log.info('agent finished');
})();
