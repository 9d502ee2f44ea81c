'use strict';
// A stand-in model API (express + pino-http). Optional behaviour via env:
//   SLOW_MS   delay before sending headers on /v1/complete for model "large"
//   /v1/stream sends the headers and half a body, then stalls
const express = require('express');
const pinoHttp = require('pino-http');
const { randomUUID } = require('crypto');
const { mkPino } = require('../lib/log');

const log = mkPino('model-api');
const app = express();
app.use(pinoHttp({
  logger: log,
  genReqId: (req, res) => { const id = req.headers['x-request-id'] || randomUUID(); res.setHeader('X-Request-ID', id); return id; },
  customProps: (req) => ({ correlationId: req.id }),
}));
app.use(express.json());
app.get('/healthz', (req, res) => res.json({ ok: true }));
app.post('/v1/complete', (req, res) => {
  const slow = req.body && req.body.model === 'large' ? Number(process.env.SLOW_MS || 0) : 15;
  setTimeout(() => { if (!res.destroyed) res.json({ text: `ok: ${req.body && req.body.prompt}`, tokens: 42 }); }, slow);
});
app.post('/v1/stream', (req, res) => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.write('{"delta":"The deploy"}\n');
});
app.post('/v1/usage', (req, res) => res.status(204).end());
const srv = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => log.info({ port: srv.address().port }, 'model api listening'));
process.on('SIGTERM', () => { log.info('SIGTERM received, closing'); srv.close(() => process.exit(0)); srv.closeAllConnections(); });
