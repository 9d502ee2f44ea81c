'use strict';
// Agent whose outbound calls time out in the ways Node/undici/pg report it.
const { randomUUID } = require('crypto');
const undici = require('undici');
const pg = require('pg');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1');
const MODEL = process.env.MODEL_URL;
const INDEX = process.env.INDEX_URL;
const INDEX_PG_PORT = Number(process.env.INDEX_PG_PORT);
const cfg = { requestTimeoutMs: 200, headersTimeoutMs: 300, bodyTimeoutMs: 300, connectTimeoutMs: 700 };

// Production code tunes the global dispatcher used by fetch().
undici.setGlobalDispatcher(new undici.Agent({
  headersTimeout: cfg.headersTimeoutMs, bodyTimeout: cfg.bodyTimeoutMs, connect: { timeout: cfg.connectTimeoutMs },
}));

const post = (url, body, extra = {}) => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': extra.id }, body: JSON.stringify(body), ...extra.init,
});

async function workflow(name, fn) {
  const correlationId = randomUUID();
  const wl = log.child({ correlationId });
  const t0 = Date.now();
  wl.info({ workflow: name }, 'workflow started');
  try {
    await fn(wl, correlationId);
    wl.info({ workflow: name, durationMs: Date.now() - t0 }, 'workflow completed');
  } catch (err) {
    wl.error({ err, workflow: name, durationMs: Date.now() - t0 }, 'workflow failed');
  }
}

(async () => {
  log.info({ config: cfg, modelUrl: MODEL, indexUrl: INDEX }, 'agent started');

  await workflow('search-docs', async (wl, id) => {
    const res = await fetch(`${INDEX}/search?q=rollback`, { headers: { 'x-request-id': id } });
    wl.info({ status: res.status }, 'search done');
  });
  await workflow('persist-embeddings', async (wl) => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: INDEX_PG_PORT, user: 'agent', database: 'index', connectionTimeoutMillis: cfg.connectTimeoutMs });
    try { await pool.query('SELECT 1'); } finally { pool.end().catch(() => {}); }
  });
  await workflow('persist-embeddings-direct', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: INDEX_PG_PORT, user: 'agent', database: 'index', connectionTimeoutMillis: cfg.connectTimeoutMs });
    await c.connect();
  });

  await workflow('summarize', async (wl, id) => {
    const res = await post(`${MODEL}/v1/complete`, { model: 'small', prompt: 'summarize the incident' }, { id, init: { signal: AbortSignal.timeout(5000) } });
    wl.info({ status: res.status, body: await res.json() }, 'model call done');
  });
  await workflow('plan-migration', async (wl, id) => {
    const res = await post(`${MODEL}/v1/complete`, { model: 'large', prompt: 'plan the schema migration' }, { id, init: { signal: AbortSignal.timeout(cfg.requestTimeoutMs) } });
    wl.info({ status: res.status }, 'model call done');
  });
  await workflow('review-pr', async (wl, id) => {
    const ac = new AbortController();
    setTimeout(() => { wl.warn('cancel requested by manager'); ac.abort(); }, 150);
    await post(`${MODEL}/v1/complete`, { model: 'large', prompt: 'review PR 88' }, { id, init: { signal: ac.signal } });
  });
  await workflow('draft-postmortem', async (wl, id) => {
    // no per-request signal: the dispatcher's headersTimeout fires
    await post(`${MODEL}/v1/complete`, { model: 'large', prompt: 'draft the postmortem' }, { id });
  });
  await workflow('stream-answer', async (wl, id) => {
    const res = await post(`${MODEL}/v1/stream`, { model: 'small', prompt: 'explain the outage' }, { id });
    wl.info({ status: res.status }, 'stream opened');
    await res.text();
  });
  await workflow('translate', async (wl, id) => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const t = attempt === 1 ? cfg.requestTimeoutMs : 3000;
      try {
        const res = await post(`${MODEL}/v1/complete`, { model: attempt === 1 ? 'large' : 'small', prompt: 'translate release notes' }, { id, init: { signal: AbortSignal.timeout(t) } });
        wl.info({ attempt, status: res.status }, 'model call done');
        return;
      } catch (err) {
        wl.warn({ err, attempt, timeoutMs: t }, 'model call timed out, retrying with fallback model');
      }
    }
  });
  log.info('agent finished');
})();
