'use strict';
// Agent calling the tool API with fetch() and http.request(); logs with pino's
// errWithCause serializer so the cause (code ECONNRESET / UND_ERR_SOCKET) stays an object.
const http = require('http');
const { randomUUID } = require('crypto');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1', { withCause: true });
const API = process.env.TOOL_API;

function httpPost(path, id) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${API}${path}`, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' } }, (res) => {
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    req.on('error', reject);
    req.end('{"tool":"git-diff"}');
  });
}
const fetchPost = (path, id) => fetch(`${API}${path}`, { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' }, body: '{"tool":"git-diff"}' })
  .then(async (r) => ({ status: r.status, body: await r.text() }));

async function workflow(name, fn) {
  const correlationId = randomUUID();
  const wl = log.child({ correlationId });
  wl.info({ workflow: name }, 'workflow started');
  try { await fn(wl, correlationId); wl.info({ workflow: name }, 'workflow completed'); } catch (err) { wl.error({ err, workflow: name }, 'workflow failed'); }
}

(async () => {
  log.info({ toolApi: API, keepAlive: true }, 'agent started');
  await workflow('lint', async (wl, id) => wl.info(await fetchPost('/v1/run?mode=ok', id), 'tool call done'));
  await workflow('diff-summary', async (wl, id) => wl.info(await fetchPost('/v1/run?mode=fin', id), 'tool call done'));
  await workflow('run-tests', async (wl, id) => wl.info(await fetchPost('/v1/run?mode=rst', id), 'tool call done'));
  await workflow('format', async (wl, id) => wl.info(await httpPost('/v1/run?mode=fin', id), 'tool call done'));
  await workflow('typecheck', async (wl, id) => wl.info(await httpPost('/v1/run?mode=rst', id), 'tool call done'));
  await workflow('changelog', async (wl, id) => {
    for (let attempt = 1; ; attempt++) {
      try { wl.info({ attempt, ...(await fetchPost('/v1/run?mode=flaky', id)) }, 'tool call done'); return; } catch (err) {
        if (attempt >= 3) throw err;
        wl.warn({ err, attempt }, 'tool call failed, retrying');
      }
    }
  });
  log.info('agent finished');
})();
