'use strict';
const { launch, waitForLine } = require('../lib/harness');

module.exports = [{
  dir: 'econnreset',
  expect: ['econnreset'],
  note: 'tool-api.log (express + pino-http) drops connections after reading the request: socket.destroy() (FIN) or socket.resetAndDestroy() (RST). agent.log (pino errWithCause): fetch + FIN -> TypeError "fetch failed", cause SocketError "other side closed" code UND_ERR_SOCKET (cause.socket has addresses); fetch + RST -> cause Error "read ECONNRESET" errno -104 syscall read; http.request + FIN -> Error "socket hang up" code ECONNRESET (no errno/syscall); http.request + RST -> "read ECONNRESET"; one workflow retries past a dropped connection and succeeds. agent-2.log (winston + axios): "socket hang up" / "read ECONNRESET" with code ECONNRESET, logged via err.toJSON() (whose name is "Error", not "AxiosError", for wrapped socket errors).',
  async run(out) {
    const api = launch('apps/flaky-upstream.js', { out, log: 'tool-api.log', host: 'tool-api', env: { PORT: '18301' } });
    await waitForLine(api.logFile, 'tool api listening');
    const env = { TOOL_API: 'http://127.0.0.1:18301' };
    await launch('apps/reset-agent.js', { out, log: 'agent.log', host: 'agent-1', env }).done;
    await launch('apps/reset-agent-axios.js', { out, log: 'agent-2.log', host: 'agent-2', env }).done;
    api.kill('SIGTERM'); await api.done;
  },
}];
