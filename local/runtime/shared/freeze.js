/**
 * A frozen sandbox (see scopes.js) starts no network traffic. Guarded where code starts it, in the
 * caller's own context: http(s).request/get and a ClientRequest's first write or end (requests made
 * with `new ClientRequest`), net/tls connections and sockets, HTTP/2 sessions, UDP sends and fetch.
 * Not guarded: writes on a socket opened before the sandbox froze (a database connection), and
 * `child_process`.
 */
const dgram = require('node:dgram');
const http = require('node:http');
const http2 = require('node:http2');
const https = require('node:https');
const net = require('node:net');
const tls = require('node:tls');
const { currentScope, frozen } = require('./scopes');

function frozenError() {
  const error = new Error(
    'This sandbox timed out or ended: like a frozen Lambda sandbox, its leftover code cannot send requests.',
  );
  error.code = 'ESANDBOXFROZEN';
  return error;
}

function guard(owner, name) {
  const original = owner[name];
  owner[name] = function guarded(...args) {
    if (frozen(currentScope())) throw frozenError();
    return original.apply(this, args);
  };
}

function installFreeze() {
  for (const module of [http, https]) {
    guard(module, 'request');
    guard(module, 'get');
  }
  for (const method of ['write', 'end', 'flushHeaders']) {
    const original = http.ClientRequest.prototype[method];
    http.ClientRequest.prototype[method] = function guarded(...args) {
      if (frozen(currentScope())) {
        this.destroy(frozenError());
        return method === 'write' ? false : this;
      }
      return original.apply(this, args);
    };
  }
  guard(net, 'connect');
  guard(net, 'createConnection');
  // `new net.Socket().connect()`; an HTTP agent's sockets come here too, in their request's context.
  guard(net.Socket.prototype, 'connect');
  guard(tls, 'connect');
  guard(http2, 'connect');
  guard(dgram.Socket.prototype, 'send');
  if (typeof globalThis.fetch === 'function') {
    const originalFetch = globalThis.fetch;
    globalThis.fetch = function guardedFetch(...args) {
      if (frozen(currentScope())) return Promise.reject(frozenError());
      return originalFetch.apply(this, args);
    };
  }
}

module.exports = { installFreeze };
