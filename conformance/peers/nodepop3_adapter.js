#!/usr/bin/env node
// nodepop3_adapter.js - the npm library node-pop3 under pop3-conform's adapter contract.
//
// The runner starts this program once per case and delivery with the mock's address in
// the environment and the case's options and operations on standard input
// (conformance/README.md, "The adapter contract"). node-pop3 is installed by
// peers/install.sh into peers/node_modules. Each operation is one call of its
// Pop3Connection (connect, command) or Pop3Command (STAT, LIST, UIDL, RETR, TOP, ...)
// API, the commands of RFC 1939 sections 5 to 7.
//
// Pop3Command's methods log in on their first call (USER then PASS, no CAPA); a case's
// "user" and "pass" are sent with command() as they come, and the message commands
// through Pop3Command once logged in. node-pop3 knows the multi-line form of RETR, TOP,
// LIST and UIDL only: CAPA and other multi-line commands (raw-multi) are n/a, and so are
// SASL, STLS and UTF8, which it has no support for. Values are reported as node-pop3
// returns them (a body as the string its stream gave).
'use strict';
const path = require('path');
const crypto = require('crypto');
const fs = require('fs');
const Pop3Command = require(path.join(__dirname, 'node_modules', 'node-pop3'));

const BODY_SHOW_MAX = 2048;

// The runner's text form of a value (conformance/src/escape.c).
function text(b) {
  if (!Buffer.isBuffer(b)) b = Buffer.from(String(b), 'utf8');
  const s = b.toString('latin1');
  if (s.length && s[0] !== ' ' && s[s.length - 1] !== ' ' && !s.includes('  ') &&
      /^[\x20-\x7e]*$/.test(s) && !/["\\]/.test(s)) return s;
  let o = '"';
  for (const c of b) {
    if (c === 0x0d) o += '\\r';
    else if (c === 0x0a) o += '\\n';
    else if (c === 0x09) o += '\\t';
    else if (c === 0x5c) o += '\\\\';
    else if (c === 0x22) o += '\\"';
    else if (c < 0x20 || c > 0x7e) o += '\\x' + c.toString(16).padStart(2, '0');
    else o += String.fromCharCode(c);
  }
  return o + '"';
}

function bodyLine(s) {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= BODY_SHOW_MAX) return 'body ' + text(b);
  return `body-md5 ${b.length} ${crypto.createHash('md5').update(b).digest('hex')}`;
}

// Split an operation into words: spaces, or "quoted with C escapes".
function words(line) {
  const out = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) return out;
    if (line[i] === '"') {
      i++;
      const bytes = [];
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < n) {
          const e = line[i + 1];
          i += 2;
          if (e === 'x') { bytes.push(parseInt(line.substr(i, 2), 16)); i += 2; continue; }
          const m = { r: 13, n: 10, t: 9, 0: 0, s: 32 };
          bytes.push(e in m ? m[e] : e.charCodeAt(0));
          continue;
        }
        for (const c of Buffer.from(line[i], 'utf8')) bytes.push(c);
        i++;
      }
      i++;
      out.push(Buffer.from(bytes).toString('latin1'));
    } else {
      let j = i;
      while (j < n && line[j] !== ' ' && line[j] !== '\t') j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
}

function codeOf(msg) {
  const m = /^\[([^\]\s]+)\]/.exec(msg);
  if (!m) return null;
  const lv = m[1].toUpperCase().split('/');
  if (['IN-USE', 'LOGIN-DELAY', 'AUTH', 'UTF8'].includes(lv[0])) return lv[0];
  if (lv[0] === 'SYS') return lv.length > 1 && ['TEMP', 'PERM'].includes(lv[1]) ? 'SYS/' + lv[1] : 'SYS';
  return m[1];
}

function errOf(e) {
  const ev = e && e.eventName;
  const msg = String(e && e.message !== undefined ? e.message : e).replace(/[\r\n]/g, ' ');
  if (ev === 'error' && e.command !== undefined) {
    const r = ['err server  # ' + msg];
    const c = codeOf(msg);
    if (c) r.push('code ' + c);
    return r;
  }
  if (ev === 'timeout') return ['err timeout'];
  if (ev === 'close' || ev === 'end') return ['err closed  # ' + msg];
  if (ev === 'bad-server-response') return ['err proto  # ' + msg];
  if (msg === 'no-socket') return ['err state  # ' + msg];
  if (e && e.code && /CERT|SSL|TLS|ERR_TLS|HOSTNAME|SELF_SIGNED|UNABLE_TO/.test(e.code)) {
    return ['err tls  # ' + e.code];
  }
  if (e && e.code) return ['err io  # ' + e.code];
  return ['err proto  # ' + msg];
}

class NotExpressible extends Error {}

async function main() {
  const input = fs.readFileSync(0, 'latin1').split('\n').map((l) => l.trim()).filter(Boolean);
  const host = process.env.POP3_CONFORM_HOST;
  const port = Number(process.env.POP3_CONFORM_PORT);
  let cafile = process.env.POP3_CONFORM_CAFILE;
  let timeout = Number(process.env.POP3_CONFORM_TIMEOUT || '5') * 1000;
  let servername = host;
  let insecure = false;
  let naOption = null;
  let pop = null;
  let greeting = '';
  let tls = false;
  let auth = false;
  const out = [];

  for (const line of input) {
    if (!line.startsWith('option ')) continue;
    const [k, v] = line.slice(7).split('=');
    if (k === 'timeout') timeout = Number(v);
    else if (k === 'ca' && v === 'other') cafile = process.env.POP3_CONFORM_OTHER_CAFILE;
    else if (k === 'insecure') insecure = true;
    else if (k === 'server-name') servername = v;
    else naOption = 'node-pop3 has no option ' + line.slice(7);
  }

  const ops = {
    async connect(w) {
      if (naOption) throw new NotExpressible(naOption);
      const wantTls = w.includes('tls');
      let t = timeout;
      for (const a of w) if (a.startsWith('timeout=')) t = Number(a.slice(8)) * 1000;
      const tlsOptions = insecure ? { rejectUnauthorized: false }
        : { ca: [fs.readFileSync(cafile)], rejectUnauthorized: true };
      pop = new Pop3Command({ host, port, tls: wantTls, timeout: t, tlsOptions, servername });
      pop.on('warn', () => {});
      // as any user of the library must: an 'error' event nobody listens to would throw
      pop.on('error', () => {});
      // connect() resolves on the greeting; its text is not kept, so it is caught here
      const seen = new Promise((resolve) => pop.once('response', (info) => resolve(info)));
      await pop.connect();
      greeting = await seen;
      tls = wantTls;
      auth = false;
      return ['ok'];
    },
    async welcome() { return ['ok', 'welcome ' + text('+OK ' + greeting)]; },
    async user(w) { await pop.command('USER', w[0]); return ['ok']; },
    async pass(w, line) {
      const rest = line.slice(5);
      const pw = rest.startsWith('"') || w.length === 1 ? w[0] : rest;
      const [info] = await pop.command('PASS', pw);
      pop._PASSInfo = info;  // Pop3Command's methods take this as logged in
      auth = true;
      return ['ok'];
    },
    async apop(w) {
      const m = /<[^>]*>/.exec(greeting);
      if (!m) return ['err usage  # no timestamp in the greeting'];
      const digest = crypto.createHash('md5').update(m[0] + w[1]).digest('hex');
      const [info] = await pop.command('APOP', w[0], digest);
      pop._PASSInfo = info;
      auth = true;
      return ['ok'];
    },
    async stat() {
      const info = await pop.STAT();
      const m = /^(\d+) (\d+)/.exec(info);
      return m ? ['ok', `stat ${m[1]} ${m[2]}`] : ['err proto  # ' + info];
    },
    async list(w) { return listing('msg', await pop.LIST(w[0] || ''), w); },
    async uidl(w) { return listing('uid', await pop.UIDL(w[0] || ''), w); },
    async retr(w) { return ['ok', bodyLine(await pop.RETR(w[0]))]; },
    async top(w) { return ['ok', bodyLine(await pop.TOP(w[0], w[1]))]; },
    async dele(w) { await pop.DELE(w[0]); return ['ok']; },
    async noop() { await pop.NOOP(); return ['ok']; },
    async rset() { await pop.RSET(); return ['ok']; },
    async quit() {
      await pop.QUIT();
      if (pop._socket) pop._socket.end();
      auth = false;
      return ['ok'];
    },
    async close() {
      if (pop && pop._socket) pop._socket.destroy();
      if (pop) pop._socket = null;
      auth = false;
      return ['ok'];
    },
    async raw(w) { await pop.command(...w); return ['ok']; },
    async state() {
      const c = !!(pop && pop._socket && !pop._socket.destroyed);
      return ['ok', 'connected ' + (c ? 'yes' : 'no'), 'tls ' + (c && tls ? 'yes' : 'no'),
        'auth ' + (c && auth ? 'yes' : 'no')];
    },
  };
  function listing(kind, r, w) {
    if (w.length) return ['ok', `${kind} ${r[0]} ${text(r.slice(1).join(' '))}`];
    return ['ok', ...r.map((p) => `${kind} ${p[0]} ${text(p.slice(1).join(' '))}`)];
  }
  const why = {
    capa: 'node-pop3 reads only RETR, TOP, LIST and UIDL as multi-line; CAPA is not',
    'raw-multi': 'node-pop3 reads only RETR, TOP, LIST and UIDL as multi-line',
    auth: 'node-pop3 has no SASL', sasl: 'node-pop3 has no SASL',
    login: 'node-pop3 logs in with USER and PASS only, not the choice pop3_login makes',
    stls: 'node-pop3 has no STLS', utf8: 'node-pop3 has no UTF8',
    rpop: 'node-pop3 has no RPOP', retrieve: 'node-pop3 has no pipelined retrieval',
    response: 'node-pop3 keeps no status line',
  };

  for (const line of input) {
    if (line.startsWith('option ')) continue;
    const w = words(line);
    const op = w.shift();
    let r;
    try {
      const fn = ops[op];
      if (!fn) throw new NotExpressible(why[op] || 'node-pop3 has no counterpart of ' + op);
      if (op !== 'connect' && op !== 'state' && op !== 'welcome' && op !== 'close' && !pop) {
        r = ['err state  # not connected'];
      } else {
        // node-pop3 leaves a command waiting forever when the reply stops coming (its
        // socket timeout ends only connect()): past twice the timeout, the op timed out
        let timer;
        const guard = new Promise((resolve, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timeout'),
            { eventName: 'timeout' })), 2 * timeout + 1000);
        });
        try {
          r = await Promise.race([fn(w, line), guard]);
        } finally {
          clearTimeout(timer);
        }
      }
    } catch (e) {
      r = e instanceof NotExpressible ? ['n/a ' + e.message] : errOf(e);
    }
    out.push(r.join('\n') + '\n');
    if (r[0].startsWith('n/a')) break;
  }
  process.stdout.write(out.join(''));
  if (pop && pop._socket) pop._socket.destroy();
  process.exit(0);
}

main();
