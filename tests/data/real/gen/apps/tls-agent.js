'use strict';
// Agent calling HTTPS endpoints whose certificates it does not trust.
// LOGGER=winston uses https.get; default pino uses fetch().
const https = require('https');
const { randomUUID } = require('crypto');
const { mkPino, mkWinston } = require('../lib/log');

const useWinston = process.env.LOGGER === 'winston';
const base = useWinston ? mkWinston('agent-2') : mkPino('agent-1');
const U = JSON.parse(process.env.URLS);
const CA = process.env.PRIVATE_CA;

function get(url, id, opts = {}) {
  if (!useWinston && !opts.ca) return fetch(url, { headers: { 'x-request-id': id } }).then((r) => r.status);
  return new Promise((resolve, reject) => {
    https.get(url, { headers: { 'x-request-id': id }, ...opts }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); }).on('error', reject);
  });
}

(async () => {
  if (useWinston) base.info('agent started', { urls: U }); else base.info({ urls: U }, 'agent started');
  const flows = [
    ['fetch-ticket', U.chain, { ca: CA }], // pinned private CA: trusted
    ['sync-repo', U.self],
    ['fetch-secrets', U.leaf],
    ['fetch-ticket', U.chain],
  ];
  for (const [name, url, opts] of flows) {
    const id = randomUUID();
    if (useWinston) {
      const l = base.child({ requestId: id });
      l.info('workflow started', { workflow: name, url });
      try { l.info('workflow completed', { workflow: name, status: await get(url, id, opts) }); } catch (err) { l.error('workflow failed', err); }
    } else {
      const l = base.child({ correlationId: id });
      l.info({ workflow: name, url }, 'workflow started');
      try { l.info({ workflow: name, status: await get(url, id, opts) }, 'workflow completed'); } catch (err) { l.error({ err, workflow: name }, 'workflow failed'); }
    }
  }
  if (useWinston) base.info('agent finished'); else base.info('agent finished');
})();
