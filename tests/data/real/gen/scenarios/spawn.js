'use strict';
// spawn-einval, spawn-enoent, spawn-eacces: the task agent runs a few
// workflows; the failing one hits a real libuv spawn error.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { launch } = require('../lib/harness');

const ok = (name, extra = []) => ({ name, text: `run ${name}`, cmd: 'node', args: ['apps/worker.js', '--task', name, ...extra] });

async function agent(out, log, tasks, env = {}) {
  const c = launch('apps/task-agent.js', { out, log, host: env.AGENT_NAME || 'agent-1', env: { TASKS: JSON.stringify(tasks), ...env } });
  const r = await c.done;
  if (r.code !== 0) throw new Error(`agent exited ${JSON.stringify(r)}`);
}

module.exports = [
  {
    dir: 'spawn-einval',
    expect: ['spawn-einval'],
    note: 'apps/task-agent.js (pino in agent.log, winston in agent-2.log) runs workflows; the sandboxed ones call child_process.spawn with {uid:-1} / {gid:-1}, which libuv rejects: spawn() throws synchronously Error "spawn EINVAL" (errno -22, code EINVAL, syscall "spawn", no path/spawnargs). Healthy workflows spawn apps/worker.js which logs to child-<pid>.log.',
    async run(out) {
      const tasks = [
        ok('summarize'),
        { name: 'sandboxed-shell', text: 'run tool as sandbox uid', cmd: 'node', args: ['apps/worker.js', '--task', 'sandboxed-shell'], opts: { uid: -1 } },
        ok('classify'),
        { name: 'sandboxed-git', text: 'run git as sandbox gid', cmd: 'git', args: ['status', '--porcelain'], opts: { gid: -1 } },
      ];
      await agent(out, 'agent.log', tasks);
      await agent(out, 'agent-2.log', [ok('embed'), tasks[1]], { LOGGER: 'winston', AGENT_NAME: 'agent-2' });
    },
  },
  {
    dir: 'spawn-enoent',
    expect: ['spawn-enoent'],
    note: "apps/task-agent.js runs workflows; spawning the missing CLI 'claude' emits 'error' with Error \"spawn claude ENOENT\" (errno -2, code ENOENT, syscall \"spawn claude\", path \"claude\", spawnargs [...]); also execFile('codex') (same shape, plus cmd) and spawn('node') with a missing cwd (reported as \"spawn node ENOENT\", although node exists). pino in agent.log, winston in agent-2.log.",
    async run(out) {
      const tasks = [
        ok('summarize'),
        { name: 'code-review', text: 'ask claude to review the diff', cmd: 'claude', args: ['--print', '--output-format', 'json', 'review the staged diff'] },
        ok('classify'),
        { name: 'refactor', text: 'run codex', api: 'execFile', cmd: 'codex', args: ['exec', '--json', 'refactor utils'] },
        { name: 'checkout-worktree', text: 'run worker in a worktree that was removed', cmd: 'node', args: ['apps/worker.js', '--task', 'checkout'], opts: { cwd: '/srv/worktrees/wf-1182' } },
      ];
      await agent(out, 'agent.log', tasks);
      await agent(out, 'agent-2.log', [ok('embed'), tasks[1]], { LOGGER: 'winston', AGENT_NAME: 'agent-2' });
    },
  },
  {
    dir: 'spawn-eacces',
    expect: ['spawn-eacces'],
    note: 'apps/task-agent.js spawns ./tools/lint.sh that was written without the execute bit (and ./tools, a directory): the child emits Error "spawn ./tools/lint.sh EACCES" (errno -13, code EACCES, syscall "spawn ./tools/lint.sh", path, spawnargs). Run as root: exec still needs an x bit. pino in agent.log, winston in agent-2.log. The child-<pid>.log files of the working shell tool (./tools/fmt.sh) hold its plain stdout line "fmt ok" (not JSON).',
    async run(out) {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-ws-'));
      fs.mkdirSync(path.join(cwd, 'tools'));
      fs.writeFileSync(path.join(cwd, 'tools', 'lint.sh'), '#!/bin/sh\necho lint ok\n', { mode: 0o644 });
      fs.writeFileSync(path.join(cwd, 'tools', 'fmt.sh'), '#!/bin/sh\necho fmt ok\n', { mode: 0o755 });
      const tasks = [
        { name: 'format', text: 'format sources', cmd: './tools/fmt.sh', args: ['--check'], opts: { cwd } },
        { name: 'lint', text: 'lint sources', cmd: './tools/lint.sh', args: ['--fix'], opts: { cwd } },
        { name: 'tools-dir', text: 'misconfigured tool path', cmd: './tools', args: [], opts: { cwd } },
        { name: 'summarize', text: 'run summarize', cmd: 'node', args: [require('path').join(__dirname, '..', 'apps', 'worker.js'), '--task', 'summarize'], opts: { cwd } },
      ];
      await agent(out, 'agent.log', tasks);
      await agent(out, 'agent-2.log', [tasks[1], tasks[0]], { LOGGER: 'winston', AGENT_NAME: 'agent-2' });
      fs.rmSync(cwd, { recursive: true, force: true });
    },
  },
];
