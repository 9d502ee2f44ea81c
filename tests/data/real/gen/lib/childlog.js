'use strict';
// spawn() a child whose stdout+stderr go to <dir>/child-<pid>.log (one file
// per process, like a per-container log). The file is opened before spawn
// and renamed once the pid is known; if spawn fails it is removed.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

let seq = 0;
function spawnLogged(dir, cmd, args, opts = {}) {
  const tmp = path.join(dir, `.spawn-${process.pid}-${seq++}.log`);
  const fd = fs.openSync(tmp, 'a');
  let child;
  try {
    child = spawn(cmd, args, { ...opts, stdio: ['ignore', fd, fd] });
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  if (child.pid) fs.renameSync(tmp, path.join(dir, `child-${child.pid}.log`));
  else fs.rmSync(tmp, { force: true });
  return child;
}

// The same with stdout and stderr in two files, <dir>/child-<pid>.stdout and
// .stderr, which the harness tails (lib/capture.js) as a container runtime
// reads a container's two streams.
function spawnSpooled(dir, cmd, args, opts = {}) {
  const tmp = path.join(dir, `.spawn-${process.pid}-${seq++}`);
  const fds = ['stdout', 'stderr'].map((s) => fs.openSync(`${tmp}.${s}`, 'a'));
  const drop = () => { for (const s of ['stdout', 'stderr']) fs.rmSync(`${tmp}.${s}`, { force: true }); };
  let child;
  try {
    child = spawn(cmd, args, { ...opts, stdio: ['ignore', fds[0], fds[1]] });
  } catch (err) {
    for (const fd of fds) fs.closeSync(fd);
    drop();
    throw err;
  }
  for (const fd of fds) fs.closeSync(fd);
  if (child.pid) for (const s of ['stdout', 'stderr']) fs.renameSync(`${tmp}.${s}`, path.join(dir, `child-${child.pid}.${s}`));
  else drop();
  return child;
}

module.exports = { spawnLogged, spawnSpooled };
