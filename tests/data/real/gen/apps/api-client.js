'use strict';
// A dashboard backend polling the manager's status API (winston).
const { randomUUID } = require('crypto');
const { mkWinston } = require('../lib/log');

const log = mkWinston('dashboard');
const IDS = JSON.parse(process.env.IDS);
(async () => {
  log.info('dashboard poller started', { api: process.env.API, requestTimeoutMs: 30000 });
  const get = async (url) => {
    const requestId = randomUUID();
    const res = await fetch(url, { headers: { 'x-request-id': requestId }, signal: AbortSignal.timeout(30000) });
    const body = await res.json();
    const meta = { requestId, url: url.replace(process.env.API, ''), status: res.status };
    if (res.ok) log.info('status fetched', { ...meta, body }); else log.info('status not available', { ...meta, body });
  };
  for (const id of IDS.slice(0, 5)) await get(`${process.env.API}/workflows/${id}`);
  await get(`${process.env.API}/workflows/${randomUUID()}`); // a workflow from another environment: 404
  await get(`${process.env.API}/workflows`);
  await get(`${process.env.AGENT}/tasks/${randomUUID()}`); // agent-side lookup: 404
  log.info('dashboard poller finished');
})();
