// Recomputes every vector in this folder from its inputs, with nothing but
// Node's built-in crypto: proof that the vectors describe the algorithms
// completely, for implementers in any language. Usage:
//
//   node testdata/vectors/check.mjs [folder]
//
// It prints one line per vector and ends with "N passed, M failed"; it exits
// non-zero when any vector fails.
import { createHash, createHmac, createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? dirname(fileURLToPath(import.meta.url));
const load = (name) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
let passed = 0, failed = 0;

function check(file, name, fields) {
  const bad = Object.entries(fields).filter(([, [got, want]]) => got !== want);
  if (bad.length === 0) { passed++; console.log(`ok   ${file}: ${name}`); return; }
  failed++;
  for (const [field, [got, want]] of bad) {
    console.log(`FAIL ${file}: ${name}: ${field}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`);
  }
}

const sha256hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, msg) => createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(msg, 'utf8'));

// --- SDK-HMAC-SHA256 --------------------------------------------------------

// escape leaves A-Z a-z 0-9 - _ . ~ and writes every other UTF-8 byte as %XX.
function escape(s) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
const byteCompare = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const formDecode = (s) => decodeURIComponent(s.replace(/\+/g, ' '));

function apig(v) {
  const u = new URL(v.url);
  const rawPath = v.url.slice(v.url.indexOf('/', v.url.indexOf('//') + 2)).split('?')[0];
  let uri = rawPath.split('/').map((seg) => escape(decodeURIComponent(seg))).join('/');
  if (!uri.endsWith('/')) uri += '/';
  const rawQuery = u.search.slice(1);
  const pairs = rawQuery === '' ? [] : rawQuery.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [formDecode(p), ''] : [formDecode(p.slice(0, i)), formDecode(p.slice(i + 1))];
  });
  pairs.sort((a, b) => byteCompare(a[0], b[0]) || byteCompare(a[1], b[1]));
  const query = pairs.map(([k, val]) => escape(k) + '=' + escape(val)).join('&');
  const names = v.signed_headers.split(';');
  const headers = names.map((n) => n + ':' + v.sent_headers[n].trim() + '\n').join('');
  const cr = [v.method, uri, query, headers, v.signed_headers, sha256hex(Buffer.from(v.body, 'utf8'))].join('\n');
  const date = v.sent_headers['x-sdk-date'];
  const expectDate = new Date(v.time).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const sts = 'SDK-HMAC-SHA256\n' + date + '\n' + sha256hex(cr);
  const sig = hmac(v.secret_key, sts).digest('hex');
  const auth = `SDK-HMAC-SHA256 Access=${v.access_key}, SignedHeaders=${v.signed_headers}, Signature=${sig}`;
  check('apig.json', v.name, {
    x_sdk_date: [date, expectDate], canonical_request: [cr, v.canonical_request], string_to_sign: [sts, v.string_to_sign],
    signature: [sig, v.signature], authorization: [auth, v.authorization],
  });
}

// --- JSON with literals kept: the canonical and Jackson forms --------------

// parse reads a JSON value keeping what JSON.parse loses: member order,
// number literals and string escapes. Values are {t:'obj', m:[[rawKey, key, value]]},
// {t:'arr', a:[...]}, {t:'str', raw, s}, {t:'num', raw}, {t:'lit', raw}.
function parse(src) {
  let i = 0;
  const ws = () => { while (' \t\r\n'.includes(src[i])) i++; };
  function str() {
    const start = i++;
    while (src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    i++;
    const raw = src.slice(start, i);
    return { t: 'str', raw, s: JSON.parse(raw) };
  }
  function value() {
    ws();
    const c = src[i];
    if (c === '{') {
      i++; const m = []; ws();
      if (src[i] === '}') { i++; return { t: 'obj', m }; }
      for (;;) {
        ws(); const k = str(); ws(); i++; // ':'
        m.push([k.raw, k.s, value()]); ws();
        if (src[i++] === '}') return { t: 'obj', m };
      }
    }
    if (c === '[') {
      i++; const a = []; ws();
      if (src[i] === ']') { i++; return { t: 'arr', a }; }
      for (;;) { a.push(value()); ws(); if (src[i++] === ']') return { t: 'arr', a }; }
    }
    if (c === '"') return str();
    const start = i;
    while (i < src.length && !',]} \t\r\n'.includes(src[i])) i++;
    const raw = src.slice(start, i);
    return /^-?\d/.test(raw) ? { t: 'num', raw } : { t: 'lit', raw };
  }
  return value();
}

// compact writes a value as received, without insignificant whitespace.
function compact(v) {
  switch (v.t) {
    case 'obj': return '{' + v.m.map(([rk, , x]) => rk + ':' + compact(x)).join(',') + '}';
    case 'arr': return '[' + v.a.map(compact).join(',') + ']';
    default: return v.raw;
  }
}

// canonical: top-level members sorted byte-wise by name, null ones dropped,
// every value compacted as received.
function canonical(body) {
  const o = parse(body);
  const m = o.m.filter(([, , x]) => !(x.t === 'lit' && x.raw === 'null'));
  m.sort((a, b) => byteCompare(a[1], b[1]));
  return '{' + m.map(([rk, , x]) => rk + ':' + compact(x)).join(',') + '}';
}

// Java's Double.toString (JDK 19+): the shortest decimal that reads back,
// two significant digits when one would do (the closer), plain for
// 1e-3 <= |f| < 1e7 with at least one fraction digit, else d.dddE±n.
function javaDouble(f) {
  if (f === Infinity) return '"Infinity"';
  if (f === -Infinity) return '"-Infinity"';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  let sign = '';
  if (f < 0) { sign = '-'; f = -f; }
  const split = (s) => { const [m, e] = s.split('e'); return [m.replace('.', '').replace(/0+$/, '') || '0', Number(e)]; };
  let [digits, exp] = split(f.toExponential());
  if (digits.length === 1) {
    const two = f.toExponential(1);
    if (Number(two) === f) [digits, exp] = split(two);
  }
  if (exp >= -3 && exp < 7) {
    if (exp < 0) return sign + '0.' + '0'.repeat(-exp - 1) + digits;
    const intLen = exp + 1;
    if (digits.length <= intLen) return sign + digits + '0'.repeat(intLen - digits.length) + '.0';
    return sign + digits.slice(0, intLen) + '.' + digits.slice(intLen);
  }
  return sign + digits[0] + '.' + (digits.length === 1 ? '0' : digits.slice(1)) + 'E' + exp;
}
function javaNumber(raw) {
  if (!/[.eE]/.test(raw)) return raw === '-0' ? '0' : raw;
  return javaDouble(Number(raw));
}
// jacksonString escapes only '"', '\\' and control characters, as Jackson does.
function jacksonString(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c < 0x20) out += { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[c] ?? '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}
function jacksonValue(v) {
  switch (v.t) {
    case 'obj': return '{' + v.m.map(([, k, x]) => jacksonString(k) + ':' + jacksonValue(x)).join(',') + '}';
    case 'arr': return '[' + v.a.map(jacksonValue).join(',') + ']';
    case 'str': return jacksonString(v.s);
    case 'num': return javaNumber(v.raw);
    default: return v.raw;
  }
}
// Java orders names by UTF-16 code units, which JavaScript's < does.
const utf16Compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
function jackson(body, basic) {
  const o = parse(body);
  const m = o.m.filter(([, , x]) => !(x.t === 'lit' && x.raw === 'null'));
  if (basic && m.some(([, , x]) => x.t === 'obj' || x.t === 'arr')) return null;
  m.sort((a, b) => utf16Compare(a[1], b[1]));
  return '{' + m.map(([, k, x]) => jacksonString(k) + ':' + (basic && x.t !== 'str' ? '"' + x.raw + '"' : jacksonValue(x))).join(',') + '}';
}

// --- the callback schemes ---------------------------------------------------

for (const v of load('v2.json').vectors) {
  const payload = canonical(v.body);
  const inner = hmac(v.access_key, payload).digest('hex');
  const sts = v.access_key + v.nonce + v.timestamp + inner;
  const sig = hmac(v.access_key, sts).digest('hex').toUpperCase();
  check('v2.json', v.name, { canonical_payload: [payload, v.canonical_payload], inner: [inner, v.inner], string_to_sign: [sts, v.string_to_sign], signature: [sig, v.signature] });
}

for (const v of load('kit.json').vectors) {
  const payload = canonical(v.body);
  const sts = v.access_key + v.nonce + v.timestamp + payload;
  const sig = hmac(v.access_key, sts).digest('hex');
  check('kit.json', v.name, { canonical_payload: [payload, v.canonical_payload], string_to_sign: [sts, v.string_to_sign], signature: [sig, v.signature] });
}

for (const v of load('v1-query.json').vectors) {
  const params = new Map();
  for (const p of v.query.split('&').filter((p) => p !== '')) {
    const i = p.indexOf('=');
    const [k, val] = i < 0 ? [formDecode(p), ''] : [formDecode(p.slice(0, i)), formDecode(p.slice(i + 1))];
    if (k !== 'authToken' && !params.has(k)) params.set(k, val);
  }
  const names = [...params.keys()].sort(utf16Compare);
  const sts = names.map((k) => k + '=' + params.get(k)).join('&');
  const hmacKey = v.key + params.get('timeStamp');
  const token = hmac(hmacKey, sts).digest('base64');
  const signed = v.query + '&authToken=' + encodeURIComponent(token).replace(/%20/g, '+');
  check('v1-query.json', v.name, { string_to_sign: [sts, v.string_to_sign], hmac_key: [hmacKey, v.hmac_key], auth_token: [token, v.auth_token], signed_query: [signed, v.signed_query] });
}

for (const v of load('v1-kit.json').vectors) {
  const o = parse(v.body);
  const fields = o.m.filter(([, , x]) => !(x.t === 'lit' && x.raw === 'null'))
    .map(([, k, x]) => [k, x.t === 'str' ? x.s : compact(x)])
    .filter(([, val]) => val.trim() !== '');
  fields.sort((a, b) => utf16Compare(a[0], b[0]));
  const sts = fields.map(([k, val]) => k + '=' + val).join('&');
  const hmacKey = v.key + (fields.find(([k]) => k === 'timeStamp') ?? [, ''])[1];
  const token = hmac(hmacKey, sts).digest('base64');
  check('v1-kit.json', v.name, { string_to_sign: [sts, v.string_to_sign], hmac_key: [hmacKey, v.hmac_key], auth_token: [token, v.auth_token] });
}

for (const v of load('body-sign.json').vectors) {
  const header = `sign_type="HMAC-SHA256", signature="${hmac(v.key, v.body).digest('base64')}"`;
  check('body-sign.json', v.name, { body_sign: [header, v.body_sign] });
}

// Java's SUN SHA1PRNG seeded with the key's bytes: the AES key derivation.
function sha1prng(seed, n) {
  let state = createHash('sha1').update(seed).digest();
  const out = [];
  while (out.length < n) {
    const o = createHash('sha1').update(state).digest();
    out.push(...o);
    let carry = 1, changed = false;
    const next = Buffer.alloc(state.length);
    for (let i = 0; i < state.length; i++) {
      const v = ((state[i] << 24) >> 24) + ((o[i] << 24) >> 24) + carry;
      next[i] = v & 0xff;
      changed ||= next[i] !== state[i];
      carry = v >> 8;
    }
    if (!changed) next[0] = (next[0] + 1) & 0xff;
    state = next;
  }
  return Buffer.from(out.slice(0, n));
}

for (const v of load('field-encryption.json').vectors) {
  const key = sha1prng(Buffer.from(v.key, 'utf8'), v.encrypt_type === '2' ? 16 : 32);
  const c = createCipheriv(v.encrypt_type === '2' ? 'aes-128-cbc' : 'aes-256-cbc', key, Buffer.from(v.iv, 'ascii'));
  const field = v.iv + Buffer.concat([c.update(v.plaintext, 'utf8'), c.final()]).toString('base64');
  check('field-encryption.json', v.name, { derived_key: [key.toString('hex'), v.derived_key], field: [field, v.field] });
}

for (const v of load('jackson.json').vectors) {
  const basic = jackson(v.body, true);
  check('jackson.json', v.name, {
    kit_form: [jackson(v.body, false), v.kit_form],
    basic_form: [basic ?? undefined, v.basic_form], basic_form_error: [basic === null ? true : undefined, v.basic_form_error],
  });
}

for (const v of load('apig.json').vectors) apig(v);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
