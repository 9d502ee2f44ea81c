'use strict';
// Agent whose dependencies are down: fetch/http/pg/ws all get ECONNREFUSED.
const http = require('http');
const { randomUUID } = require('crypto');
const pg = require('pg');
const WebSocket = require('ws');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1', { withCause: process.env.WITH_CAUSE === '1' });
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
    const ws = new WebSocket(C.managerWs, { headers: { 'x-agent-id': 'agent-1' } });
    ws.on('open', () => { log.info('connected to manager'); resolve(); });
    ws.on('error', (err) => log.error({ err, url: C.managerWs }, 'manager websocket error'));
    ws.on('close', (code, reason) => { log.warn({ code, reason: reason.toString(), url: C.managerWs }, 'manager websocket closed'); resolve(); });
  });
  await workflow('summarize', async (wl, id) => {
    const r = await fetch(`${C.modelIp}/v1/complete`, { method: 'POST', headers: { 'x-request-id': id }, body: '{}' });
    wl.info({ status: r.status }, 'model call done');
  });
  await workflow('summarize-localhost', async (wl, id) => {
    const r = await fetch(`${C.modelLocalhost}/v1/complete`, { method: 'POST', headers: { 'x-request-id': id }, body: '{}' });
    wl.info({ status: r.status }, 'model call done');
  });
  await workflow('fetch-context', async (wl, id) => {
    await new Promise((resolve, reject) => {
      http.get(`${C.toolApi}/context`, { headers: { 'x-request-id': id } }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
  });
  await workflow('record-result', async (wl) => {
    const c = new pg.Client({ host: '127.0.0.1', port: C.pgPort, user: 'agent', database: 'agents', password: 'x' });
    await c.connect();
  });
  await workflow('record-result-pool', async (wl) => {
    const pool = new pg.Pool({ host: 'localhost', port: C.pgPort, user: 'agent', database: 'agents', password: 'x', max: 2 });
    pool.on('error', (err) => wl.error({ err }, 'idle client error'));
    try { await pool.query('INSERT INTO results(id) VALUES ($1)', [randomUUID()]); } finally { await pool.end(); }
  });
  log.info('agent finished');
})();
