'use strict';
// Two writers touching the same two rows in opposite order. The workflow
// retries on 40P01. COLLIDE = number of attempts that collide with the
// ledger-compactor job (1: the retry succeeds; 3: every attempt deadlocks).
const { randomUUID } = require('crypto');
const pg = require('pg');
const { mkPino, mkWinston } = require('../lib/log');

const useWinston = process.env.LOGGER === 'winston';
const base = useWinston ? mkWinston(process.env.AGENT_NAME) : mkPino(process.env.AGENT_NAME);
const COLLIDE = Number(process.env.COLLIDE || 1);
const MAX_ATTEMPTS = 3;
const pool = new pg.Pool({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: 'agent', database: 'agents', max: 4 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function mk(ctx) {
  if (useWinston) {
    const l = base.child({ requestId: ctx });
    return { info: (o, m) => l.info(m, o), warn: (o, m) => (o.err ? l.warn(m, Object.assign(o.err, { ...o, err: undefined })) : l.warn(m, o)), error: (o, m) => (o.err ? l.error(m, Object.assign(o.err, { ...o, err: undefined })) : l.error(m, o)) };
  }
  const l = base.child({ correlationId: ctx });
  return { info: (o, m) => l.info(o, m), warn: (o, m) => l.warn(o, m), error: (o, m) => l.error(o, m) };
}

async function tx(first, second, holdMs) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('UPDATE accounts SET balance = balance - 10 WHERE id = $1', [first]);
    await sleep(holdMs);
    await c.query('UPDATE accounts SET balance = balance + 10 WHERE id = $1', [second]);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally { c.release(); }
}

async function compactor(l) { // background job, opposite lock order
  try { await tx(2, 1, 150); l.info({ job: 'ledger-compactor' }, 'compaction batch committed'); } catch (err) { l.error({ err, job: 'ledger-compactor' }, 'compaction batch failed'); }
}

async function settle(wfName) {
  const id = randomUUID();
  const l = mk(id);
  l.info({ workflow: wfName, accounts: [1, 2] }, 'workflow started');
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const bg = attempt <= COLLIDE ? compactor(mk(randomUUID())) : null;
    try {
      await tx(1, 2, 50);
      await bg;
      l.info({ workflow: wfName, attempt }, attempt > 1 ? 'transaction committed after retry' : 'transaction committed');
      l.info({ workflow: wfName }, 'workflow completed');
      return;
    } catch (err) {
      await bg;
      if (err.code === '40P01' && attempt < MAX_ATTEMPTS) {
        l.warn({ err, attempt, retryInMs: 100 * attempt }, 'deadlock detected, retrying transaction');
        await sleep(100 * attempt);
        continue;
      }
      l.error({ err, attempt, workflow: wfName }, attempt >= MAX_ATTEMPTS ? 'transaction failed, retries exhausted' : 'transaction failed');
      l.error({ workflow: wfName }, 'workflow failed');
      return;
    }
  }
}

(async () => {
  const s = { maxAttempts: MAX_ATTEMPTS };
  if (useWinston) base.info('agent started', s); else base.info(s, 'agent started');
  await settle('settle-usage-invoice');
  await settle('settle-refund');
  await pool.end();
  if (useWinston) base.info('agent finished'); else base.info('agent finished');
})();
