'use strict';
const pg = require('pg');
const cluster = require('../lib/pg-cluster');
const { launch, waitForLine, sleep } = require('../lib/harness');

async function setup() {
  const c = cluster.start();
  const su = new pg.Client({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' });
  await su.connect();
  const exists = (await su.query("SELECT 1 FROM pg_database WHERE datname = 'agents'")).rowCount;
  if (!exists) {
    await su.query('CREATE ROLE agent LOGIN; CREATE ROLE agent_ro LOGIN CONNECTION LIMIT 1; CREATE ROLE reporting LOGIN');
    await su.query('CREATE DATABASE agents OWNER agent');
  }
  await su.end();
  const a = new pg.Client({ host: c.host, port: c.port, user: 'agent', database: 'agents' });
  await a.connect();
  await a.query(`DROP TABLE IF EXISTS tasks, accounts, workflows;
    CREATE TABLE tasks (id int PRIMARY KEY, claimed_by text);
    INSERT INTO tasks VALUES (1, NULL), (2, 'agent-7'), (3, 'agent-7'), (4, NULL), (5, NULL), (6, NULL);
    CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
    INSERT INTO accounts VALUES (1, 1000), (2, 1000);
    CREATE TABLE workflows (id uuid PRIMARY KEY, task text NOT NULL, agent text, status text NOT NULL, started_at timestamptz DEFAULT now(), finished_at timestamptz);
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO agent_ro, reporting;`);
  await a.end();
  return c;
}

module.exports = [
  {
    dir: 'pg-too-many-connections',
    expect: ['pg-too-many-connections'],
    note: 'Real PostgreSQL 15 (max_connections=8, superuser_reserved_connections=1). agent.log (pino, pool max 4, role agent_ro with CONNECTION LIMIT 1): 4 concurrent workflows -> 1 succeeds, 3 fail with pg DatabaseError "too many connections for role \\"agent_ro\\"" (code 53300, severity FATAL, file miscinit.c, routine InitializeSessionUserId). report-job.log holds 6 connections as role reporting; agent-2.log (winston, role agent) then gets "remaining connection slots are reserved for non-replication superuser connections" (53300, FATAL, postinit.c InitPostgres) and, after the harness takes the last two slots as superuser, "sorry, too many clients already" (53300, FATAL, proc.c InitProcess) in agent-3.log (winston).',
    async run(out) {
      const c = await setup();
      const env = { PGPORT: String(c.port) };
      await launch('apps/pg-too-many.js', { out, log: 'agent.log', host: 'agent-1', env: { ...env, PGUSER: 'agent_ro', AGENT_NAME: 'agent-1' } }).done;
      const hog = launch('apps/pg-hog.js', { out, log: 'report-job.log', host: 'report-job', env: { ...env, HOLD: '6' } });
      await waitForLine(hog.logFile, 'report job connected');
      await launch('apps/pg-too-many.js', { out, log: 'agent-2.log', host: 'agent-2', env: { ...env, PGUSER: 'agent', AGENT_NAME: 'agent-2', LOGGER: 'winston' } }).done;
      const su = new pg.Client({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' });
      const su2 = new pg.Client({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' });
      await su.connect(); await su2.connect(); // 6 + 2 = max_connections: every slot is taken
      await launch('apps/pg-too-many.js', { out, log: 'agent-3.log', host: 'agent-3', env: { ...env, PGUSER: 'agent', AGENT_NAME: 'agent-3', LOGGER: 'winston' } }).done;
      await su.query('SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = $1', ['reporting']);
      await su.end(); await su2.end();
      hog.kill('SIGTERM'); await hog.done;
      await sleep(200);
    },
  },
  {
    dir: 'pg-pool-leak',
    expect: ['pg-pool-leak'],
    note: 'Real PostgreSQL. agent.log (pino): pg.Pool({max:2, connectionTimeoutMillis:500}); the "task already claimed" path returns without client.release(); after two leaks every pool.connect() fails with Error "timeout exceeded when trying to connect" (pg-pool, no code field) while pool stats show total 2, idle 0.',
    async run(out) {
      const c = await setup();
      await launch('apps/pg-leak-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { PGPORT: String(c.port) } }).done;
    },
  },
  {
    dir: 'pg-deadlock',
    expect: ['pg-deadlock'],
    note: 'Real PostgreSQL (deadlock_timeout=300ms). agent.log (pino): the settle workflow updates accounts 1 then 2 while a ledger-compactor transaction updates 2 then 1 -> DatabaseError "deadlock detected" code 40P01 (detail "Process N waits for ShareLock on transaction ...", hint "See server log for query details.", where "while updating tuple ...", routine DeadLockReport) logged at warn with "deadlock detected, retrying transaction"; the retry commits ("transaction committed after retry"). Happens in two workflows.',
    async run(out) {
      const c = await setup();
      await launch('apps/pg-deadlock-agent.js', { out, log: 'agent.log', host: 'agent-1', env: { PGPORT: String(c.port), COLLIDE: '1', AGENT_NAME: 'agent-1' } }).done;
    },
  },
  {
    dir: 'pg-deadlock-retry-fails',
    expect: ['pg-deadlock'],
    note: 'Same program as pg-deadlock with winston (agent-2.log) and COLLIDE=3: every attempt deadlocks (40P01 logged at warn twice, then error "transaction failed, retries exhausted" and "workflow failed").',
    async run(out) {
      const c = await setup();
      await launch('apps/pg-deadlock-agent.js', { out, log: 'agent-2.log', host: 'agent-2', env: { PGPORT: String(c.port), COLLIDE: '3', AGENT_NAME: 'agent-2', LOGGER: 'winston' } }).done;
      cluster.stop();
    },
  },
];
