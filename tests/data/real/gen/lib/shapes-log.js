'use strict';
// Loggers in the shapes Node services commonly print, behind one small call
// surface so that the shapes apps can switch with LOG_SHAPE / LOG_ID_FIELD:
//   l.info(fields, msg)  l.warn  l.error  l.debug   (fields may hold `err`)
//   l.withId(id)         child logger carrying the correlation id
// Each shape logs the way its library is normally used:
//   pino             pino(), default `err` serializer, epoch-ms `time`, numeric level, `msg`
//   pino-cause       pino with serializers.err = errWithCause (`cause` kept as an object)
//   winston-meta     format.combine(errors({stack:true}), timestamp(), json()); the
//                    error as metadata: error: {message, code, stack, cause}
//   winston-spread   same format; logger.error(msg, err): the error's fields spread
//                    over the line (message "<msg> <err.message>", stack, code, ...)
//   bunyan           bunyan.createLogger (v:0, numeric level, msg, ISO time, err serializer)
//   console-ts       console.log(JSON.stringify({ts: <epoch s.mmm>, level, message, ...}))
//   console-iso      console.log(JSON.stringify({'@timestamp': <ISO>, level: 'INFO', message, ...}))
// LOG_ID_FIELD is where the id goes: correlationId, request_id, requestId,
// traceId, x_request_id, or nested: meta.correlationId, context.requestId.
const HOST = process.env.LOG_HOSTNAME || require('os').hostname();

function idObj(field, id) {
  const parts = field.split('.');
  const o = {};
  let cur = o;
  for (let i = 0; i < parts.length - 1; i++) cur = cur[parts[i]] = {};
  cur[parts[parts.length - 1]] = id;
  return o;
}

function idOf(field, o) {
  let cur = o;
  for (const p of field.split('.')) { if (cur == null || typeof cur !== 'object') return undefined; cur = cur[p]; }
  return cur;
}

// libraries that drop a native Error's `cause` get it copied by the app code
function causeOf(err) {
  const c = err && err.cause;
  if (!c) return undefined;
  const o = { message: c.message || String(c) };
  if (c.code) o.code = c.code;
  if (c.errors && c.errors.length) o.errors = c.errors.map((e) => ({ message: e.message, code: e.code }));
  return o;
}

function mkPinoShape(name, shape) {
  const pino = require('pino');
  const o = { name, level: 'debug', base: { pid: process.pid, hostname: HOST } };
  if (shape === 'pino-cause') o.serializers = { err: pino.stdSerializers.errWithCause };
  const base = pino(o);
  const wrap = (l) => ({
    raw: l,
    debug: (f, m) => l.debug(f || {}, m), info: (f, m) => l.info(f || {}, m),
    warn: (f, m) => l.warn(f || {}, m), error: (f, m) => l.error(f || {}, m),
  });
  return { base, wrap, child: (l, o2) => l.child(o2) };
}

function mkWinstonShape(name, shape) {
  const winston = require('winston');
  const base = winston.createLogger({
    level: 'debug',
    format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: name, pid: process.pid, hostname: HOST },
    transports: [new winston.transports.Console()],
  });
  const w = (l, lvl) => (f, m) => {
    const { err, ...rest } = f || {};
    if (!err) return l[lvl](m, rest);
    if (shape === 'winston-meta') {
      const error = { message: err.message };
      if (err.code !== undefined) error.code = err.code;
      error.stack = err.stack;
      const c = causeOf(err);
      if (c) error.cause = c;
      return l[lvl](m, { ...rest, error });
    }
    const c = causeOf(err);
    return l[lvl](m, Object.assign(err, rest, c ? { cause: c } : {}));
  };
  const wrap = (l) => ({ raw: l, debug: w(l, 'debug'), info: w(l, 'info'), warn: w(l, 'warn'), error: w(l, 'error') });
  return { base, wrap, child: (l, o2) => l.child(o2) };
}

function mkBunyanShape(name) {
  const bunyan = require('bunyan');
  const base = bunyan.createLogger({ name, level: 'debug', hostname: HOST, serializers: { err: bunyan.stdSerializers.err } });
  const w = (l, lvl) => (f, m) => {
    const o = { ...(f || {}) };
    const c = o.err && causeOf(o.err);
    if (c) o.cause = c;
    return l[lvl](o, m);
  };
  const wrap = (l) => ({ raw: l, debug: w(l, 'debug'), info: w(l, 'info'), warn: w(l, 'warn'), error: w(l, 'error') });
  return { base, wrap, child: (l, o2) => l.child(o2) };
}

function mkConsoleShape(name, shape) {
  const iso = shape === 'console-iso';
  const errObj = (err) => {
    const e = iso ? { type: err.name, message: err.message } : { name: err.name, message: err.message };
    if (err.code !== undefined) e.code = err.code;
    if (iso) e.stack_trace = err.stack; else e.stack = err.stack;
    const c = causeOf(err);
    if (c) e.cause = c;
    return e;
  };
  const mk = (ctx) => {
    const w = (lvl) => (f, m) => {
      const { err, ...rest } = f || {};
      const head = iso
        ? { '@timestamp': new Date().toISOString(), level: lvl.toUpperCase(), service: name, message: m }
        : { ts: Number((Date.now() / 1000).toFixed(3)), level: lvl, service: name, message: m };
      const o = { ...head, pid: process.pid, host: HOST, ...ctx, ...rest };
      if (err) o.error = errObj(err);
      console.log(JSON.stringify(o));
    };
    return { ctx, debug: w('debug'), info: w('info'), warn: w('warn'), error: w('error') };
  };
  const base = mk({});
  return { base, wrap: (l) => l, child: (l, o2) => mk({ ...l.ctx, ...o2 }) };
}

// create(name, {shape, idField}) -> logger; logger.withId(id) -> child with the id
function create(name, o = {}) {
  const shape = o.shape || process.env.LOG_SHAPE || 'pino';
  const idField = o.idField || process.env.LOG_ID_FIELD || 'correlationId';
  let impl;
  if (shape === 'pino' || shape === 'pino-cause') impl = mkPinoShape(name, shape);
  else if (shape === 'winston-meta' || shape === 'winston-spread') impl = mkWinstonShape(name, shape);
  else if (shape === 'bunyan') impl = mkBunyanShape(name);
  else if (shape === 'console-ts' || shape === 'console-iso') impl = mkConsoleShape(name, shape);
  else throw new Error(`unknown LOG_SHAPE ${shape}`);
  const build = (l) => {
    const x = impl.wrap(l);
    x.shape = shape;
    x.idField = idField;
    x.withId = (id) => build(impl.child(l, id === undefined || id === null ? {} : idObj(idField, id)));
    x.with = (fields) => build(impl.child(l, fields));
    x.base = l;
    return x;
  };
  return build(impl.base);
}

module.exports = { create, idObj, idOf, HOST };
