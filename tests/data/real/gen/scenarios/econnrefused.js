'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { launch } = require('../lib/harness');

// A container-style /etc/hosts where localhost is both ::1 and 127.0.0.1,
// bind-mounted in a private mount namespace (root + unshare only). Without
// it `localhost` may be 127.0.0.1 only and no AggregateError appears.
function dualStackPrefix() {
  if (process.getuid() !== 0) return null;
  const hosts = path.join(os.tmpdir(), 'logloom-hosts');
  fs.writeFileSync(hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  const prefix = ['unshare', '-m', 'sh', '-c', `mount --bind ${hosts} /etc/hosts && exec "$@"`, 'sh'];
  try { execFileSync(prefix[0], [...prefix.slice(1), 'true']); return prefix; } catch (_) { return null; }
}

module.exports = [{
  dir: 'econnrefused',
  expect: ['econnrefused'],
  note: 'Nothing listens on the dependency ports. agent.log (pino default err serializer): ws client -> Error "connect ECONNREFUSED 127.0.0.1:18401" (errno -111, syscall connect, address, port) then close code 1006; fetch to 127.0.0.1 -> TypeError "fetch failed" whose pino message is "fetch failed: connect ECONNREFUSED ..." (cause folded into message/stack, cause.code NOT kept); fetch to localhost with a dual-stack /etc/hosts (::1 and 127.0.0.1, bind-mounted in a mount namespace like a container\'s) -> cause is AggregateError code ECONNREFUSED with empty message and two errors; http.get localhost -> AggregateError directly (message "", code ECONNREFUSED, aggregateErrors[]); pg.Client -> "connect ECONNREFUSED 127.0.0.1:15432"; pg.Pool to localhost -> AggregateError. agent-errcause.log: same program with pino.stdSerializers.errWithCause (cause kept as object). agent-2.log (winston): axios to localhost -> err.toJSON() with name "AggregateError", code ECONNREFUSED, message "connect ECONNREFUSED ::1:18402; connect ECONNREFUSED 127.0.0.1:18402"; pg to localhost -> logger.error("workflow failed", aggregateError): message stays "workflow failed" (the AggregateError message is empty), code ECONNREFUSED and stack "AggregateError [ECONNREFUSED]: ..." merged in, no per-address errors.',
  async run(out) {
    const prefix = dualStackPrefix();
    if (!prefix) process.stderr.write('   (no unshare: localhost stays single-stack, no AggregateError)\n');
    const DEPS = JSON.stringify({
      managerWs: 'ws://127.0.0.1:18401/agents', modelIp: 'http://127.0.0.1:18402', modelLocalhost: 'http://localhost:18402',
      toolApi: 'http://localhost:18403', pgPort: 15432,
    });
    await launch('apps/refused-agent.js', { out, log: 'agent.log', host: 'agent-1', prefix, env: { DEPS } }).done;
    await launch('apps/refused-agent.js', { out, log: 'agent-errcause.log', host: 'agent-3', prefix, env: { DEPS, WITH_CAUSE: '1' } }).done;
    await launch('apps/refused-agent-axios.js', { out, log: 'agent-2.log', host: 'agent-2', prefix, env: { DEPS } }).done;
    fs.rmSync(path.join(os.tmpdir(), 'logloom-hosts'), { force: true });
  },
}];
