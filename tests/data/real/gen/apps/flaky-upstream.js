'use strict';
// A tool API behind a misbehaving proxy: some routes drop the TCP connection
// after reading the request, either with a FIN (socket.destroy()) or an RST
// (socket.resetAndDestroy()).
const express = require('express');
const pinoHttp = require('pino-http');
const { mkPino } = require('../lib/log');

const log = mkPino('tool-api');
const app = express();
app.use(pinoHttp({ logger: log, customProps: (req) => ({ correlationId: req.headers['x-request-id'] }) }));
let n = 0;
app.get('/healthz', (req, res) => res.json({ ok: true }));
app.post('/v1/run', (req, res) => {
  const mode = req.query.mode || 'ok';
  if (mode === 'fin' || (mode === 'flaky' && n++ % 2 === 0)) { req.log.warn({ mode }, 'upstream worker crashed, closing connection'); return req.socket.destroy(); }
  if (mode === 'rst') { req.log.warn({ mode }, 'upstream worker crashed, resetting connection'); return req.socket.resetAndDestroy(); }
  res.json({ ok: true, n });
});
const srv = app.listen(Number(process.env.PORT), '127.0.0.1', () => log.info({ port: srv.address().port }, 'tool api listening'));
process.on('SIGTERM', () => { log.info('SIGTERM received, closing'); srv.close(() => process.exit(0)); srv.closeAllConnections(); });
