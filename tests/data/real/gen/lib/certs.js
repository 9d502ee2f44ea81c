'use strict';
// Makes throwaway certificates with the openssl CLI.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

function makeCerts() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
  const o = (...a) => execFileSync('openssl', a, { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
  const san = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
  // 1. self-signed leaf
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-days', '30', '-subj', '/CN=localhost', '-addext', san);
  // 2. private CA + leaf signed by it
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/O=Acme Corp/CN=Acme Internal Root CA');
  o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(d, 'ext.cnf'), `${san}\nextendedKeyUsage=serverAuth\n`);
  o('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '30', '-extfile', 'ext.cnf');
  const r = (f) => fs.readFileSync(path.join(d, f), 'utf8');
  const certs = { selfKey: r('self.key'), selfCrt: r('self.crt'), caCrt: r('ca.crt'), leafKey: r('leaf.key'), leafCrt: r('leaf.crt') };
  fs.rmSync(d, { recursive: true, force: true });
  return certs;
}
module.exports = { makeCerts };
