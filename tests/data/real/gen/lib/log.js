'use strict';
// Logger factories used by the apps. Everything goes to stdout (and V8/Node
// diagnostics to stderr); the harness points both at the process's log file,
// the way a container runtime would.
const pino = require('pino');
const winston = require('winston');

const HOST = process.env.LOG_HOSTNAME || require('os').hostname();

// pino with the default `err` serializer (pino 10 folds `cause` into
// message/stack as "caused by: ..."); pass {withCause:true} to use
// pino.stdSerializers.errWithCause instead (keeps `cause` as an object).
function mkPino(name, opts = {}) {
  const o = {
    name,
    level: opts.level || 'debug',
    base: { pid: process.pid, hostname: HOST },
  };
  if (opts.withCause) o.serializers = { err: pino.stdSerializers.errWithCause };
  if (opts.isoTime) o.timestamp = pino.stdTimeFunctions.isoTime;
  // default pino destination is asynchronous (SonicBoom, flushed on exit);
  // {sync:true} writes each line before returning.
  return opts.sync ? pino(o, pino.destination({ dest: 1, sync: true })) : pino(o);
}

// winston in the usual production shape.
function mkWinston(service, opts = {}) {
  return winston.createLogger({
    level: opts.level || 'debug',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    defaultMeta: { service, pid: process.pid, hostname: HOST },
    transports: [new winston.transports.Console()],
  });
}

module.exports = { mkPino, mkWinston, HOST };
