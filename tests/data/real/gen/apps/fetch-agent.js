'use strict';
// An agent whose model client uses the global fetch(). Started with
// `node --no-experimental-fetch`, so `fetch` does not exist.
const http = require('http');
const { randomUUID } = require('crypto');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1');
const MODEL_URL = process.env.MODEL_URL;

process.on('uncaughtException', (err, origin) => {
  log.fatal({ err, origin }, 'uncaught exception, exiting');
  process.exit(1);
});

async function callModel(prompt, correlationId) {
  const res = await fetch(`${MODEL_URL}/v1/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': correlationId },
    body: JSON.stringify({ prompt }),
  });
  return res.json();
}

function ping() { // health check written with the http module still works
  return new Promise((resolve, reject) => {
    http.get(`${MODEL_URL}/healthz`, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
  });
}

(async () => {
  log.info({ node: process.version, execArgv: process.execArgv, modelUrl: MODEL_URL, fetchType: typeof globalThis.fetch }, 'agent started');
  log.info({ status: await ping() }, 'model endpoint healthy');
  for (const prompt of ['summarize issue #412', 'draft release notes', 'classify support ticket']) {
    const correlationId = randomUUID();
    const wl = log.child({ correlationId });
    wl.info({ prompt }, 'workflow started');
    try {
      const out = await callModel(prompt, correlationId);
      wl.info({ out }, 'workflow completed');
    } catch (err) {
      wl.error({ err }, 'model call failed');
      wl.warn('workflow failed');
    }
  }
  // the usage reporter is fire-and-forget: its rejection is not caught
  setTimeout(() => {
    log.info('reporting usage');
    fetch(`${MODEL_URL}/v1/usage`, { method: 'POST', body: '{}' });
  }, 50);
})();
