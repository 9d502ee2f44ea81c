'use strict';
const { makeCerts } = require('../lib/certs');
const { launch, waitForLine, sleep } = require('../lib/harness');

module.exports = [{
  dir: 'tls-untrusted',
  expect: ['tls-untrusted'],
  note: 'tool-api.log: real Node https servers with openssl-made certs: self-signed (18501), leaf from a private CA sent alone (18502), leaf + private CA chain (18503); (the servers do not log tlsClientError: on this TLS 1.3 stack the server side only sees "socket hang up" ECONNRESET, which would blur this scenario). agent.log (pino, fetch): TypeError "fetch failed" with pino message "fetch failed: self-signed certificate" / "fetch failed: unable to verify the first certificate" / "fetch failed: self-signed certificate in certificate chain" (the cause codes DEPTH_ZERO_SELF_SIGNED_CERT / UNABLE_TO_VERIFY_LEAF_SIGNATURE / SELF_SIGNED_CERT_IN_CHAIN do not appear anywhere in these lines: pino folds only the cause message/stack). agent-2.log (winston, https.get): the same errors unwrapped, with the code field. The first workflow in each agent pins the private CA and succeeds.',
  async run(out) {
    const c = makeCerts();
    const PORTS = { self: 18501, leaf: 18502, chain: 18503 };
    const srv = launch('apps/tls-upstream.js', { out, log: 'tool-api.log', host: 'tool-api', env: { CERTS: JSON.stringify(c), PORTS: JSON.stringify(PORTS) } });
    await waitForLine(srv.logFile, '"port":18503');
    const URLS = JSON.stringify({ self: 'https://localhost:18501/v1/repo', leaf: 'https://localhost:18502/v1/secrets', chain: 'https://localhost:18503/v1/tickets' });
    await launch('apps/tls-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { URLS, PRIVATE_CA: c.caCrt } }).done;
    await launch('apps/tls-agent.js', { out, log: 'agent-2.log', host: 'agent-2', env: { URLS, PRIVATE_CA: c.caCrt, LOGGER: 'winston' } }).done;
    await sleep(100);
    srv.kill('SIGTERM'); await srv.done;
  },
}];
