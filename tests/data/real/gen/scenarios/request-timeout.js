'use strict';
const net = require('net');
const { launch, waitForLine, sleep } = require('../lib/harness');

module.exports = [{
  dir: 'request-timeout',
  expect: ['request-timeout'],
  note: 'agent.log (pino, apps/timeout-agent.js, undici global dispatcher headersTimeout/bodyTimeout 300 ms, connect timeout 700 ms): fetch to search-index.log, a real server whose event loop is blocked with a full accept backlog -> TypeError "fetch failed" caused by ConnectTimeoutError UND_ERR_CONNECT_TIMEOUT; pg.Pool (connectionTimeoutMillis) to the same stalled service -> "Connection terminated due to connection timeout" (pino folds the cause in: "...: Connection terminated unexpectedly"), pg.Client -> "timeout expired"; fetch to model-api.log (express, slow model) with AbortSignal.timeout(200) -> DOMException TimeoutError code 23, AbortController -> DOMException AbortError code 20, no signal -> fetch failed / HeadersTimeoutError UND_ERR_HEADERS_TIMEOUT, stalled body -> TypeError "terminated" / BodyTimeoutError UND_ERR_BODY_TIMEOUT; one timeout retried successfully. agent-2.log (winston + axios timeout 300 ms) -> AxiosError "timeout of 300ms exceeded" code ECONNABORTED (once via err.toJSON(), once the whole error). Kernel connect ETIMEDOUT could not be produced: the generating host never timed out a dropped SYN within minutes.',
  async run(out) {
    const api = launch('apps/model-stub.js', { out, log: 'model-api.log', host: 'model-api', env: { PORT: '18201', SLOW_MS: '1500' } });
    const idx = launch('apps/stalled-upstream.js', { out, log: 'search-index.log', host: 'search-index', env: { PORTS: '18202,18203', BLOCK_MS: '7000' } });
    await waitForLine(api.logFile, 'model api listening');
    await waitForLine(idx.logFile, 'rebuilding index');
    const fillers = [];
    for (const port of [18202, 18203]) for (let i = 0; i < 2; i++) { const s = net.connect(port, '127.0.0.1'); s.on('error', () => {}); fillers.push(s); }
    await sleep(200);
    const a = launch('apps/timeout-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { MODEL_URL: 'http://127.0.0.1:18201', INDEX_URL: 'http://127.0.0.1:18202', INDEX_PG_PORT: '18203' } });
    const ra = await a.done;
    if (ra.code !== 0) throw new Error(`agent exited ${JSON.stringify(ra)}`);
    const b = launch('apps/axios-agent.js', { out, log: 'agent-2.log', host: 'agent-2', env: { MODEL_URL: 'http://127.0.0.1:18201' } });
    await b.done;
    await waitForLine(idx.logFile, 'index rebuilt', 15000);
    fillers.forEach((s) => s.destroy());
    await sleep(1700); // let the slow model responses finish
    for (const p of [api, idx]) { p.kill('SIGTERM'); await p.done; }
  },
}];
