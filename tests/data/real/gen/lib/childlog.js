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

module.exports = { spawnLogged };
