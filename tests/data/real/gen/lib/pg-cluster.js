'use strict';
// A throwaway PostgreSQL 15 cluster for the generators (initdb + pg_ctl).
// As root, the cluster runs as the `postgres` OS user (initdb refuses root).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const BIN = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
let cluster = null;

function asPg(cmd, args) {
  const root = process.getuid() === 0;
  const [c, a] = root ? ['runuser', ['-u', process.env.PG_OS_USER || 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

// o.maxConnections: max_connections (default 8).
function start(port = 55432, o = {}) {
  if (cluster) return cluster;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgx-'));
  if (process.getuid() === 0) {
    const u = process.env.PG_OS_USER || 'postgres';
    execFileSync('chown', [u, dir]);
  }
  const data = path.join(dir, 'data');
  asPg(path.join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = [
    `-k ${dir}`, `-p ${port}`, '-c listen_addresses=127.0.0.1', `-c max_connections=${o.maxConnections || 8}`,
    '-c superuser_reserved_connections=1', '-c fsync=off', '-c deadlock_timeout=300ms',
  ].join(' ');
  asPg(path.join(BIN, 'pg_ctl'), ['-D', data, '-o', opts, '-l', path.join(dir, 'server.log'), '-w', 'start']);
  cluster = { dir, data, port, host: '127.0.0.1' };
  process.on('exit', stop);
  return cluster;
}

function stop() {
  if (!cluster) return;
  try { asPg(path.join(BIN, 'pg_ctl'), ['-D', cluster.data, '-m', 'immediate', '-w', 'stop']); } catch (_) { /* already down */ }
  fs.rmSync(cluster.dir, { recursive: true, force: true });
  cluster = null;
}

module.exports = { start, stop };
