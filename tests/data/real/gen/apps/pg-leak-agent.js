'use strict';
// Agent that checks out pool clients and forgets to release them on an
// early-return path; the pool (max 2) runs dry.
const { randomUUID } = require('crypto');
const pg = require('pg');
const { mkPino } = require('../lib/log');

const log = mkPino('agent-1');
const pool = new pg.Pool({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: 'agent', database: 'agents', max: 2, connectionTimeoutMillis: 500, idleTimeoutMillis: 10000 });
const stats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });

async function claimTask(taskId, l) {
  const client = await pool.connect();
  const r = await client.query('SELECT id, claimed_by FROM tasks WHERE id = $1', [taskId]);
  if (r.rows[0].claimed_by) {
    l.info({ taskId, claimedBy: r.rows[0].claimed_by }, 'task already claimed, skipping');
    return false; // BUG: client.release() missing on this path
  }
  await client.query('UPDATE tasks SET claimed_by = $2 WHERE id = $1', [taskId, 'agent-1']);
  client.release();
  return true;
}

(async () => {
  log.info({ pool: { max: 2, connectionTimeoutMillis: 500 } }, 'agent started');
  for (const taskId of [1, 2, 3, 4, 5, 6]) {
    const correlationId = randomUUID();
    const l = log.child({ correlationId });
    l.info({ workflow: 'claim-task', taskId }, 'workflow started');
    try {
      const claimed = await claimTask(taskId, l);
      l.info({ workflow: 'claim-task', taskId, claimed, pool: stats() }, 'workflow completed');
    } catch (err) {
      l.error({ err, taskId, pool: stats() }, 'workflow failed');
    }
  }
  log.info({ pool: stats() }, 'agent finished');
  process.exit(0);
})();
