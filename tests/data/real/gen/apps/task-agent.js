'use strict';
// An agent that runs a list of workflows; each workflow spawns one tool
// process. Tools that start get their own child-<pid>.log in SCENARIO_OUT.
//   TASKS='[{"name":"summarize","cmd":"node","args":["apps/worker.js"],"opts":{}}]'
//   LOGGER=pino|winston
const { randomUUID } = require('crypto');
const { execFile } = require('child_process');
const { mkPino, mkWinston } = require('../lib/log');
const { spawnLogged } = require('../lib/childlog');

const AGENT = process.env.AGENT_NAME || 'agent-1';
const OUT = process.env.SCENARIO_OUT;
const useWinston = process.env.LOGGER === 'winston';
const tasks = JSON.parse(process.env.TASKS);

// Tiny adapter so the workflow code below reads the same for both loggers;
// each call uses the logger's own idiom.
const base = useWinston ? mkWinston(AGENT) : mkPino(AGENT);
function wlog(ctx) {
  if (useWinston) {
    const l = base.child({ requestId: ctx.id });
    return {
      info: (o, m) => l.info(m, o),
      warn: (o, m) => l.warn(m, o),
      // winston idiom: logger.error('message', err) with format.errors({stack:true})
      error: (o, m) => {
        const { err, ...rest } = o;
        return err ? l.error(m, Object.assign(err, rest)) : l.error(m, rest);
      },
    };
  }
  const l = base.child({ correlationId: ctx.id });
  return { info: (o, m) => l.info(o, m), warn: (o, m) => l.warn(o, m), error: (o, m) => l.error(o, m) };
}

function runTool(t, log) {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(t.propagate === false ? {} : { CORRELATION_ID: log.id }) };
    delete env.TASKS;
    if (t.propagate === false) delete env.CORRELATION_ID;
    const opts = { ...(t.opts || {}), env };
    if (t.api === 'execFile') {
      const c = execFile(t.cmd, t.args || [], opts, (err, stdout) => {
        if (err) { log.l.error({ err, tool: t.cmd }, 'tool failed'); return resolve(false); }
        log.l.info({ tool: t.cmd, childPid: c.pid, stdoutBytes: stdout.length }, 'tool finished');
        resolve(true);
      });
      return;
    }
    let child;
    try {
      child = spawnLogged(OUT, t.cmd, t.args || [], opts);
    } catch (err) { // EINVAL and friends are thrown synchronously by spawn()
      log.l.error({ err, tool: t.cmd }, 'spawn failed');
      return resolve(false);
    }
    child.on('error', (err) => { // ENOENT / EACCES arrive as 'error' events
      log.l.error({ err, tool: t.cmd }, 'spawn failed');
      resolve(false);
    });
    child.on('spawn', () => log.l.info({ tool: t.cmd, args: t.args, childPid: child.pid }, 'child spawned'));
    child.on('exit', (code, signal) => {
      const lvl = code === 0 ? 'info' : 'error';
      log.l[lvl]({ childPid: child.pid, code, signal }, 'child exited');
      resolve(code === 0);
    });
  });
}

(async () => {
  const top = useWinston ? { info: (o, m) => base.info(m, o) } : base;
  top.info({ agent: AGENT, tools: [...new Set(tasks.map((t) => t.cmd))] }, 'agent started');
  for (const t of tasks) {
    const id = randomUUID();
    const l = wlog({ id });
    const log = { id, l };
    const t0 = Date.now();
    l.info({ workflow: t.name, text: t.text }, 'workflow started');
    const ok = await runTool(t, log);
    if (ok) l.info({ workflow: t.name, durationMs: Date.now() - t0 }, 'workflow completed');
    else l.warn({ workflow: t.name, durationMs: Date.now() - t0 }, 'workflow failed');
    await new Promise((r) => setTimeout(r, 30));
  }
  top.info({ agent: AGENT, workflows: tasks.length }, 'agent finished');
})();
