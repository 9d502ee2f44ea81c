'use strict';
// HTTPS tool API on three ports: self-signed cert, leaf from a private CA
// (leaf only), and leaf + private CA in the chain.
const https = require('https');
const { mkPino } = require('../lib/log');

const log = mkPino('tool-api');
const C = JSON.parse(process.env.CERTS);
const P = JSON.parse(process.env.PORTS);
const handler = (req, res) => {
  log.info({ correlationId: req.headers['x-request-id'], method: req.method, url: req.url, statusCode: 200 }, 'request completed');
  res.setHeader('content-type', 'application/json');
  res.end('{"ok":true}');
};
const servers = [
  ['self-signed', P.self, { key: C.selfKey, cert: C.selfCrt }],
  ['private-ca-leaf-only', P.leaf, { key: C.leafKey, cert: C.leafCrt }],
  ['private-ca-chain', P.chain, { key: C.leafKey, cert: C.leafCrt + C.caCrt }],
].map(([name, port, opts]) => {
  const s = https.createServer(opts, handler);
  s.listen(port, '127.0.0.1', () => log.info({ port, listener: name }, 'https listening'));
  return s;
});
process.on('SIGTERM', () => { log.info('SIGTERM received, closing'); servers.forEach((s) => { s.close(); s.closeAllConnections(); }); setTimeout(() => process.exit(0), 50); });
