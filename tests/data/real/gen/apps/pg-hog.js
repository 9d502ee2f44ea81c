'use strict';
// A reporting job that opens several connections and keeps them busy.
const pg = require('pg');
const { mkPino } = require('../lib/log');

const log = mkPino('report-job', { sync: true });
const N = Number(process.env.HOLD || 6);
(async () => {
  const clients = [];
  for (let i = 0; i < N; i++) {
    const c = new pg.Client({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: 'reporting', database: 'agents' });
    await c.connect();
    clients.push(c);
  }
  log.info({ connections: clients.length }, 'report job connected, running long queries');
  const q = clients.map((c) => c.query('SELECT pg_sleep(30)').catch(() => {}));
  process.on('SIGTERM', async () => { log.info('SIGTERM received, cancelling report'); process.exit(0); });
  await Promise.all(q);
})();
