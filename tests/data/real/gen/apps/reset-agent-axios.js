'use strict';
// Same calls with axios + winston.
const { randomUUID } = require('crypto');
const axios = require('axios');
const { mkWinston } = require('../lib/log');

const log = mkWinston('agent-2');
const api = axios.create({ baseURL: process.env.TOOL_API, timeout: 5000 });
(async () => {
  log.info('agent started', { toolApi: process.env.TOOL_API });
  for (const [name, mode] of [['lint', 'ok'], ['diff-summary', 'fin'], ['run-tests', 'rst']]) {
    const requestId = randomUUID();
    const wl = log.child({ requestId });
    wl.info('workflow started', { workflow: name });
    try {
      const r = await api.post(`/v1/run?mode=${mode}`, { tool: name }, { headers: { 'X-Request-ID': requestId } });
      wl.info('workflow completed', { workflow: name, status: r.status });
    } catch (err) {
      wl.error(`workflow failed: ${err.message}`, { workflow: name, code: err.code, error: err.toJSON() });
    }
  }
  log.info('agent finished');
})();
