'use strict';
// Shapes manager: apps/fleet-manager.js with a configurable logger shape and
// id field (lib/shapes-log.js). Runs WORKFLOWS in overlapping batches; each
// workflow gets a correlation id, a row in PostgreSQL and a POST to its agent
// with X-Request-ID, except the workflows named in LEGACY_CLIENT (JSON list):
// those go through an older client that sends no X-Request-ID (the agent then
// makes up its own id). Every dispatch is logged with the target agent and URL.
// An agent answering 429 is retried after Retry-After; an agent that cannot be
// reached is skipped after BREAKER_THRESHOLD consecutive connection failures
// and its workflows go to the next agent.
//   AGENTS=[{name,url}], WORKFLOWS=[{workflow,text,steps,agent,params}], BATCH,
//   BATCH_EVERY_MS, PGPORT, LEGACY_CLIENT, BREAKER_THRESHOLD, LOG_SHAPE, LOG_ID_FIELD
const fs = require('fs');
const { randomUUID } = require('crypto');
const pg = require('pg');
const { create } = require('../lib/shapes-log');

const log = create('manager');
const AGENTS = JSON.parse(process.env.AGENTS);
const WF = JSON.parse(process.env.WORKFLOWS);
const LEGACY = new Set(JSON.parse(process.env.LEGACY_CLIENT || '[]'));
const cfg = {
  requestTimeoutMs: 30000, maxBusyRetries: 8, breakerThreshold: Number(process.env.BREAKER_THRESHOLD || 3),
  batchSize: Number(process.env.BATCH || 10), batchEveryMs: Number(process.env.BATCH_EVERY_MS || 6000),
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pool = new pg.Pool({ host: '127.0.0.1', port: Number(process.env.PGPORT), user: 'agent', database: 'agents', max: 3 });
const health = new Map(AGENTS.map((a) => [a.name, { failures: 0, down: false }]));
let open = 0;

// ground truth for the generator only (job number -> correlation id); not a log
function truth(o) { if (process.env.GEN_TRUTH_FILE) fs.appendFileSync(process.env.GEN_TRUTH_FILE, JSON.stringify({ agent: 'manager', ...o }) + '\n'); }

function pick(name, l) {
  const i = AGENTS.findIndex((a) => a.name === name);
  for (let k = 0; k < AGENTS.length; k++) {
    const a = AGENTS[(i + k) % AGENTS.length];
    if (!health.get(a.name).down) {
      if (k) l.info({ agent: name, routedTo: a.name }, 'agent unavailable, routing to another agent');
      return a;
    }
  }
  throw new Error('no agent available');
}

async function post(agent, wf, id, job) {
  const headers = { 'content-type': 'application/json' };
  if (!LEGACY.has(wf.workflow)) headers['x-request-id'] = id;
  const res = await fetch(`${agent.url}/tasks`, {
    method: 'POST', headers,
    body: JSON.stringify({ workflow: wf.workflow, text: wf.text, steps: wf.steps, params: wf.params, job }),
    signal: AbortSignal.timeout(cfg.requestTimeoutMs),
  });
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after') || 1), body: await res.json() };
}

async function dispatch(wf, l, id, job) {
  let agent = pick(wf.agent, l);
  let logged = null;
  for (let attempt = 1; ; attempt++) {
    if (logged !== agent) {
      l.info({ workflow: wf.workflow, agent: agent.name, url: `${agent.url}/tasks`, attempt }, 'dispatching workflow');
      logged = agent;
    }
    let r;
    try {
      r = await post(agent, wf, id, job);
    } catch (err) {
      const h = health.get(agent.name);
      h.failures++;
      l.error({ err, agent: agent.name, attempt, consecutiveFailures: h.failures }, 'dispatch to agent failed');
      if (h.failures >= cfg.breakerThreshold && !h.down) {
        h.down = true;
        log.warn({ agent: agent.name, consecutiveFailures: h.failures }, 'agent marked unavailable');
      }
      const next = pick(AGENTS[(AGENTS.indexOf(agent) + 1) % AGENTS.length].name, l);
      l.info({ from: agent.name, to: next.name }, 're-dispatching workflow');
      agent = next;
      continue;
    }
    health.get(agent.name).failures = 0;
    if (r.status === 429 && attempt < cfg.maxBusyRetries) {
      l.info({ agent: agent.name, status: 429, attempt, retryInMs: r.retryAfter * 1000 }, 'agent busy, will retry');
      await sleep(r.retryAfter * 1000);
      continue;
    }
    if (attempt > 1) l.info({ agent: agent.name, attempt, status: r.status }, 'retry succeeded');
    return { agent, ...r };
  }
}

async function run(wf, job) {
  const correlationId = randomUUID();
  truth({ job, id: correlationId });
  const l = log.withId(correlationId);
  const t0 = Date.now();
  open++;
  l.info({ workflow: wf.workflow, text: wf.text, agent: wf.agent, openWorkflows: open }, 'workflow started');
  let status = 'failed';
  try {
    await pool.query('INSERT INTO workflows (id, workflow, agent, status) VALUES ($1, $2, $3, $4)', [correlationId, wf.workflow, wf.agent, 'running']);
    const r = await dispatch(wf, l, correlationId, job);
    const b = r.body;
    if (r.status === 202) {
      status = 'background';
      l.info({ workflow: wf.workflow, agent: r.agent.name, status: r.status, childPid: b.childPid }, 'workflow handed off to background worker');
    } else if (r.status === 200) {
      status = 'succeeded';
      l.info({ agent: r.agent.name, status: r.status, childPid: b.childPid, childExitCode: b.code }, 'agent responded');
      l.info({ workflow: wf.workflow, durationMs: Date.now() - t0 }, 'workflow completed');
    } else {
      l.error({ workflow: wf.workflow, agent: r.agent.name, status: r.status, failedStep: b.failedStep, childPid: b.childPid, childExitCode: b.code, childSignal: b.signal, durationMs: Date.now() - t0 }, 'workflow failed');
    }
    const u = await pool.query('UPDATE workflows SET status = $2, finished_at = now() WHERE id = $1', [correlationId, status]);
    l.debug({ rows: u.rowCount, status }, 'workflow row updated');
  } catch (err) {
    l.error({ err, workflow: wf.workflow, durationMs: Date.now() - t0 }, 'workflow crashed');
  } finally { open--; }
  return status;
}

(async () => {
  log.info({ config: cfg, agents: AGENTS, workflows: WF.length }, 'manager started');
  const all = [];
  for (let i = 0, b = 1; i < WF.length; i += cfg.batchSize, b++) {
    const batch = WF.slice(i, i + cfg.batchSize);
    log.info({ batch: b, size: batch.length, openWorkflows: open }, 'starting batch');
    all.push(...batch.map((wf, k) => run(wf, i + k)));
    if (i + cfg.batchSize < WF.length) await sleep(cfg.batchEveryMs);
  }
  const st = await Promise.all(all);
  const count = (s) => st.filter((x) => x === s).length;
  log.info({ workflows: st.length, succeeded: count('succeeded'), failed: count('failed'), background: count('background') }, 'all workflows finished');
})().catch((err) => { log.error({ err }, 'manager crashed'); process.exit(1); });

process.on('SIGTERM', async () => {
  log.info({ openWorkflows: open }, 'SIGTERM received, shutting down');
  await pool.end();
  log.info({}, 'shutdown complete');
  setTimeout(() => process.exit(0), 50);
});
