'use strict';
const { launch, waitForLine } = require('../lib/harness');

module.exports = [{
  dir: 'fetch-undefined',
  expect: ['fetch-undefined'],
  note: 'apps/fetch-agent.js started with `node --no-experimental-fetch`: each workflow\'s model call throws the real ReferenceError "fetch is not defined" (logged by pino in try/catch, level 50), then an un-awaited usage report throws it inside a timer and the uncaughtException handler logs it at fatal (60) and exits 1. model-api.log is the stub API (express + pino-http) which only sees the http-module health check.',
  async run(out) {
    const api = launch('apps/model-stub.js', { out, log: 'model-api.log', host: 'model-api', env: { PORT: '18101' } });
    await waitForLine(api.logFile, 'model api listening');
    const a = launch('apps/fetch-agent.js', { out, log: 'agent.log', host: 'agent-1', nodeArgs: ['--no-experimental-fetch'], env: { MODEL_URL: 'http://127.0.0.1:18101' } });
    const r = await a.done;
    if (r.code !== 1) throw new Error(`agent exit ${JSON.stringify(r)}`);
    api.kill('SIGTERM');
    await api.done;
  },
}];
