'use strict';
// A second agent written with axios + winston.
const { randomUUID } = require('crypto');
const axios = require('axios');
const { mkWinston } = require('../lib/log');

const log = mkWinston('agent-2');
const MODEL = process.env.MODEL_URL;
const http = axios.create({ baseURL: MODEL, timeout: Number(process.env.AXIOS_TIMEOUT_MS || 300) });

(async () => {
  log.info('agent started', { modelUrl: MODEL, timeoutMs: http.defaults.timeout });
  for (const [name, model] of [['summarize', 'small'], ['plan-migration', 'large'], ['classify', 'small'], ['write-tests', 'large']]) {
    const requestId = randomUUID();
    const wl = log.child({ requestId });
    wl.info('workflow started', { workflow: name });
    try {
      const res = await http.post('/v1/complete', { model, prompt: name }, { headers: { 'X-Request-ID': requestId } });
      wl.info('workflow completed', { workflow: name, status: res.status, tokens: res.data.tokens });
    } catch (err) {
      if (name === 'write-tests') wl.error('workflow failed', err); // whole AxiosError (config, request, ...)
      else wl.error('workflow failed', { workflow: name, error: err.toJSON() });
    }
  }
  log.info('agent finished');
})();
