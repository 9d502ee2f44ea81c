'use strict';
// Harness helpers: start an app as its own process with stdout+stderr going
// to one log file in the scenario directory (like `docker logs`), wait for a
// line to appear, send real signals.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const GEN = path.resolve(__dirname, '..');
const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch (_) { /* gone */ } } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// launch('apps/agent.js', { out, log: 'agent.log', args, nodeArgs, env, host })
// log may be a function (pid) => filename; the file is then renamed once the
// pid is known (the fd stays valid across the rename).
// With capture: {corpus, app, container} (lib/capture.js) stdout and stderr are
// pipes read by the harness instead, written as they arrive to raw/<log> and
// the docker and CRI forms; child.sink is the container's sink.
function launch(script, o) {
  if (o.capture) return launchCaptured(script, o);
  const tmpName = typeof o.log === 'function' ? `.pending-${process.hrtime.bigint()}.log` : o.log;
  const file = path.join(o.out, tmpName);
  const fd = fs.openSync(file, 'a');
  const argv = [process.execPath, ...(o.nodeArgs || []), path.join(GEN, script), ...(o.args || [])];
  const cmd = [...(o.prefix || []), ...argv]; // prefix: e.g. a namespace wrapper that ends in `exec "$@"`
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: o.cwd || GEN,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, LOG_HOSTNAME: o.host || 'node-1', SCENARIO_OUT: o.out, ...(o.env || {}) },
  });
  fs.closeSync(fd);
  if (typeof o.log === 'function') {
    child.logFile = path.join(o.out, o.log(child.pid));
    fs.renameSync(file, child.logFile);
  } else child.logFile = file;
  live.add(child);
  child.done = new Promise((resolve) => child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
  return child;
}

function launchCaptured(script, o) {
  const { corpus, app, container } = o.capture;
  const sink = corpus.sink(o.log, app, container);
  const argv = [process.execPath, ...(o.nodeArgs || []), path.join(GEN, script), ...(o.args || [])];
  const cmd = [...(o.prefix || []), ...argv];
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: o.cwd || GEN,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_HOSTNAME: o.host || 'node-1', SCENARIO_OUT: o.out, ...(o.env || {}) },
  });
  require('./capture').attach(child, sink);
  child.sink = sink;
  child.logFile = sink.rawFile;
  live.add(child);
  child.done = new Promise((resolve) => child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
  return child;
}

async function waitForLine(file, needle, timeoutMs = 15000) {
  const t0 = Date.now();
  for (;;) {
    let s = '';
    try { s = fs.readFileSync(file, 'utf8'); } catch (_) { /* not yet */ }
    if (s.includes(needle)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting for ${JSON.stringify(needle)} in ${path.basename(file)}`);
    await sleep(50);
  }
}

async function withTimeout(p, ms, what) {
  let t;
  const r = await Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms); })]);
  clearTimeout(t);
  return r;
}

module.exports = { GEN, launch, waitForLine, sleep, withTimeout };
