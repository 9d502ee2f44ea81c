'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const pg = require('pg');
const cluster = require('../lib/pg-cluster');
const { launch, waitForLine, sleep } = require('../lib/harness');

const TEXTS = [
  ['summarize-pr', 'Summarize PR #231'],
  ['triage-issue', 'Triage issue #87: scheduler deadlock report turned out to be a docs typo'],
  ['update-changelog', 'Update CHANGELOG for 2.4.0'],
  ['write-faq', 'Write FAQ entry explaining what ECONNREFUSED means for self-hosters'],
  ['review-diff', 'Review the staged diff'],
  ['summarize-postmortem', 'Summarize last quarter\'s OOMKilled postmortem for the newsletter'],
  ['label-issues', 'Label new issues'],
  ['bump-deps', 'Bump pino to the latest minor'],
  ['draft-reply', 'Draft a reply about request timeout defaults (requestTimeoutMs)'],
  ['summarize-thread', 'Summarize the design thread'],
];

module.exports = [{
  dir: 'healthy-workflows',
  expect: [],
  note: 'A healthy system: manager.log (pino, apps/orchestrator.js: ws heartbeat server, express + pino-http status API, real PostgreSQL inserts/updates) runs 20 workflows in batches of 3 against agent-1.log (express + pino-http) and agent-2.log (express + winston request logging), both sending ws heartbeats; each workflow spawns a worker child (child-<pid>.log, pino, correlationId propagated) that exits 0. Benign look-alikes: config {"requestTimeoutMs":30000,"maxRetries":3,...}; task texts mentioning "deadlock", "ECONNREFUSED", "OOMKilled", "request timeout"; an agent answering 429 (busy) followed by an info "retry succeeded"; dashboard.log (winston) gets 404s for an unknown workflow and unknown agent task (pino-http logs those at warn); agents and manager shut down cleanly (ws close 1000).',
  async run(out) {
    const c = cluster.start();
    const su = new pg.Client({ host: c.host, port: c.port, user: 'postgres', database: 'postgres' });
    await su.connect();
    if (!(await su.query("SELECT 1 FROM pg_roles WHERE rolname = 'agent'")).rowCount) await su.query('CREATE ROLE agent LOGIN');
    if (!(await su.query("SELECT 1 FROM pg_database WHERE datname = 'agents'")).rowCount) await su.query('CREATE DATABASE agents OWNER agent');
    await su.end();
    const a = new pg.Client({ host: c.host, port: c.port, user: 'agent', database: 'agents' });
    await a.connect();
    await a.query('DROP TABLE IF EXISTS workflows; CREATE TABLE workflows (id uuid PRIMARY KEY, task text NOT NULL, agent text, status text NOT NULL, started_at timestamptz DEFAULT now(), finished_at timestamptz)');
    await a.end();

    const WS = 'ws://127.0.0.1:18801/agents';
    const m = launch('apps/orchestrator.js', { out, log: 'manager.log', host: 'manager', env: {
      AGENTS: JSON.stringify([{ name: 'agent-1', url: 'http://127.0.0.1:18811' }, { name: 'agent-2', url: 'http://127.0.0.1:18812' }]),
      WORKFLOWS: JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ workflow: TEXTS[i % 10][0], text: TEXTS[i % 10][1], steps: 2 + (i % 3) }))),
      BATCH: '3', PGPORT: String(c.port), WS_PORT: '18801', API_PORT: '18802', IDS_FILE: path.join(os.tmpdir(), `ids-${process.pid}.json`),
    } });
    await waitForLine(m.logFile, 'agent gateway listening');
    const a1 = launch('apps/http-agent.js', { out, log: 'agent-1.log', host: 'agent-1', env: { PORT: '18811', AGENT_NAME: 'agent-1', PROPAGATE: '1', MANAGER_WS: WS } });
    const a2 = launch('apps/http-agent.js', { out, log: 'agent-2.log', host: 'agent-2', env: { PORT: '18812', AGENT_NAME: 'agent-2', PROPAGATE: '1', MANAGER_WS: WS, LOGGER: 'winston' } });
    await waitForLine(m.logFile, 'all workflows finished', 60000);
    const idsFile = path.join(os.tmpdir(), `ids-${process.pid}.json`);
    const IDS = fs.readFileSync(idsFile, 'utf8'); fs.rmSync(idsFile);
    await launch('apps/api-client.js', { out, log: 'dashboard.log', host: 'dashboard', env: { IDS, API: 'http://127.0.0.1:18802', AGENT: 'http://127.0.0.1:18811' } }).done;
    await sleep(300);
    for (const p of [a1, a2]) { p.kill('SIGTERM'); await p.done; }
    await sleep(100);
    m.kill('SIGTERM'); await m.done;
    cluster.stop();
  },
}];
