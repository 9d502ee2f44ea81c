'use strict';
const { randomUUID } = require('crypto');
const axios = require('axios');
const pg = require('pg');
const { mkWinston } = require('../lib/log');

const log = mkWinston('agent-2');
const C = JSON.parse(process.env.DEPS);
(async () => {
  log.info('agent started', { deps: C });
  for (const name of ['plan', 'persist']) {
    const requestId = randomUUID();
    const wl = log.child({ requestId });
    wl.info('workflow started', { workflow: name });
    try {
      if (name === 'plan') await axios.post(`${C.modelLocalhost}/v1/complete`, { prompt: 'plan' }, { headers: { 'X-Request-ID': requestId } });
      else { const c = new pg.Client({ host: 'localhost', port: C.pgPort, user: 'agent', database: 'agents' }); await c.connect(); }
      wl.info('workflow completed', { workflow: name });
    } catch (err) {
      if (name === 'plan') wl.error('workflow failed', { workflow: name, code: err.code, error: err.toJSON() });
      else wl.error('workflow failed', err);
    }
  }
  log.info('agent finished');
})();
