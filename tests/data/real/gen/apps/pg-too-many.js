'use strict';
// Agent whose workflows each take a pooled connection; the database refuses
// connections beyond its limits (role CONNECTION LIMIT / max_connections).
const { randomUUID } = require('crypto');
const pg = require('pg');
const { mkPino, mkWinston } = require('../lib/log');

const useWinston = process.env.LOGGER === 'winston';
const base = useWinston ? mkWinston(process.env.AGENT_NAME) : mkPino(process.env.AGENT_NAME);
const pool = new pg.Pool({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: process.env.PGUSER, database: 'agents', max: Number(process.env.POOL_MAX || 4) });
pool.on('error', (err) => (useWinston ? base.error('idle client error', err) : base.error({ err }, 'idle client error')));

async function workflow(i) {
  const id = randomUUID();
  const l = useWinston ? base.child({ requestId: id }) : base.child({ correlationId: id });
  const info = (o, m) => (useWinston ? l.info(m, o) : l.info(o, m));
  info({ workflow: `sync-issues-${i}`, pgUser: process.env.PGUSER }, 'workflow started');
  try {
    const r = await pool.query('SELECT pg_sleep(0.3), count(*)::int AS n FROM pg_stat_activity WHERE usename = current_user');
    info({ workflow: `sync-issues-${i}`, sessions: r.rows[0].n }, 'workflow completed');
  } catch (err) {
    if (useWinston) l.error('workflow failed', err);
    else l.error({ err, pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } }, 'workflow failed');
  }
}

(async () => {
  const start = { pgUser: process.env.PGUSER, poolMax: pool.options.max };
  if (useWinston) base.info('agent started', start); else base.info(start, 'agent started');
  await Promise.all([1, 2, 3, 4].map(workflow));
  await pool.end();
  if (useWinston) base.info('agent finished'); else base.info('agent finished');
})();
