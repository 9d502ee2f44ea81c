'use strict';
const { launch } = require('../lib/harness');

module.exports = [{
  dir: 'enotfound',
  expect: ['enotfound'],
  note: 'Dependencies configured as *.invalid hostnames (RFC 6761). agent.log (pino): ws -> Error "getaddrinfo ENOTFOUND monitoring-server.invalid" (errno -3008, code ENOTFOUND, syscall getaddrinfo, hostname) + close 1006; fetch -> TypeError "fetch failed" (pino message "fetch failed: getaddrinfo ENOTFOUND ...", cause code not kept); http.request -> ENOTFOUND directly; pg.Pool -> ENOTFOUND. agent-2.log (winston + axios): "metrics push failed: getaddrinfo ENOTFOUND ..." with code/errno/syscall copied by hand. The generating machine answered ENOTFOUND (not EAI_AGAIN) for these names.',
  async run(out) {
    const DEPS = JSON.stringify({
      managerWs: 'ws://orchestrator.invalid:8080/agents', model: 'http://model-gateway.invalid:8000',
      metrics: 'http://monitoring-server.invalid:9091', pgHost: 'postgres-primary.invalid',
    });
    await launch('apps/dns-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { DEPS } }).done;
    await launch('apps/dns-agent-axios.js', { out, log: 'agent-2.log', host: 'agent-2', env: { DEPS } }).done;
  },
}];
