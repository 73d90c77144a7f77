// SPDX-License-Identifier: MIT
//
// Contract check of offlinefilesd against openapi/openapi.yaml: drives every
// operation of the spec over HTTP (success and error cases) and validates
// each response - status, Content-Type, headers and body - against the spec
// with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1). A response the
// spec does not describe is a failure, and so is an operation never
// exercised. The request side is checked too: what the daemon accepts must
// be valid per the spec, and inputs the daemon refuses as invalid should be
// refused by the spec's schemas as well.
//
// For WebDAV shares the check runs a small WebDAV server of its own on
// 127.0.0.1 (one empty collection, credentials required, down or slow on
// demand). The passwords and tokens it gives shares must never appear in any
// answer or in the daemon's log.
//
// Usage: node check.mjs --base http://127.0.0.1:PORT --spec openapi.yaml
//          --admin-token FILE --user-token FILE --work DIR
// DIR is a scratch directory (the daemon's --web-dir must be DIR/web).
// Prints one line per check and, last, "N passed, M failed".

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

const { values: opt } = parseArgs({
    options: {
        base: { type: 'string' },
        spec: { type: 'string' },
        'admin-token': { type: 'string' },
        'user-token': { type: 'string' },
        work: { type: 'string' },
        routes: { type: 'string', default: new URL('../../api/routes.c', import.meta.url).pathname },
        verbose: { type: 'boolean', default: false },
    },
});
for (const k of ['base', 'spec', 'admin-token', 'user-token', 'work'])
    if (!opt[k]) {
        console.error(`check.mjs: --${k} is required`);
        process.exit(2);
    }

const base = new URL(opt.base);
const specText = readFileSync(opt.spec, 'utf8');
const spec = parseYaml(specText);
const tokens = {
    admin: readFileSync(opt['admin-token'], 'utf8').trim(),
    user: readFileSync(opt['user-token'], 'utf8').trim(),
    bad: 'of_' + '0'.repeat(64),
};
const work = opt.work;

// ---------------------------------------------------------------- the spec

const SCHEMA_ID = 'urn:offlinefiles:openapi:schemas';
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
// OpenAPI's own schema keywords (annotations only).
ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);

// Component schemas live in one Ajv document; '#/components/schemas/X' refs point into it.
function rewriteRefs(node) {
    if (Array.isArray(node)) return node.map(rewriteRefs);
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
            out[k] = `${SCHEMA_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
        else out[k] = rewriteRefs(v);
    }
    return out;
}
ajv.addSchema({ $id: SCHEMA_ID, $defs: rewriteRefs(spec.components?.schemas ?? {}) });

const validators = new Map();
function validator(schema) {
    let v = validators.get(schema);
    if (!v) {
        v = ajv.compile(rewriteRefs(schema));
        validators.set(schema, v);
    }
    return v;
}
function schemaErrors(schema, value, where) {
    let v;
    try {
        v = validator(schema);
    } catch (e) {
        return [`${where}: the spec's schema does not compile: ${e.message}`];
    }
    if (v(value)) return [];
    return v.errors.map((e) => `${where}${e.instancePath} ${e.message}` +
        (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
}

// Follow a local $ref (responses, parameters, headers, request bodies).
function deref(obj) {
    let seen = 0;
    while (obj && obj.$ref) {
        if (++seen > 20) throw new Error(`$ref loop at ${obj.$ref}`);
        const parts = obj.$ref.replace(/^#\//, '').split('/')
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        obj = parts.reduce((o, p) => o?.[p], spec);
        if (!obj) throw new Error(`unresolved $ref`);
    }
    return obj;
}

const METHODS = ['get', 'head', 'put', 'post', 'delete', 'patch', 'options', 'trace'];
const ops = [];
const pathItems = [];
for (const [template, item] of Object.entries(spec.paths)) {
    // {path} spans segments (see the Path parameter); other parameters are one segment.
    const names = [];
    const rx = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, n) => {
        names.push(n);
        return n === 'path' ? '(.+)' : '([^/]+)';
    });
    const entry = { template, item, regex: new RegExp(`^${rx}$`), names, methods: [] };
    pathItems.push(entry);
    for (const m of METHODS) {
        if (!item[m]) continue;
        const params = new Map();
        for (const p of [...(item.parameters ?? []), ...(item[m].parameters ?? [])]) {
            const d = deref(p);
            params.set(`${d.in}:${d.name}`, d);
        }
        const op = { id: item[m].operationId, method: m.toUpperCase(), template, op: item[m], params, entry };
        entry.methods.push(op.method);
        ops.push(op);
    }
}

function findPath(pathname) {
    // Literal templates win over templated ones, as in any router.
    const hits = pathItems.filter((p) => p.regex.test(pathname));
    hits.sort((a, b) => a.names.length - b.names.length);
    return hits[0];
}

// ----------------------------------------------------------------- HTTP

// Share secrets (passwords, tokens) the check sets: no answer may ever show one.
const secrets = new Set();
const leaks = [];
function leakErrors(where, ...texts) {
    const found = [...secrets].filter((sec) => texts.some((t) => t.includes(sec)));
    if (found.length) leaks.push(where);
    return found.map((sec) => `${where} shows the secret '${sec.slice(0, 6)}...'`);
}

function send({ method, path, headers = {}, body, declaredLength, chunks }) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent: false });
        let answered = false;
        req.setTimeout(20000, () => req.destroy(new Error('timeout')));
        req.on('response', (res) => {
            const parts = [];
            res.on('data', (c) => parts.push(c));
            res.on('end', () => {
                answered = true;
                const body = Buffer.concat(parts);
                const leaked = leakErrors(`${method} ${path.slice(0, 80)}`, body.toString('latin1'),
                    JSON.stringify(res.headers));
                resolve({ status: res.statusCode, headers: res.headers, body, leaked });
                req.destroy();
            });
            res.on('error', (e) => { if (!answered) reject(e); });
        });
        req.on('error', (e) => { if (!answered) reject(e); });
        if (declaredLength !== undefined) {
            // Only the headers: the daemon must refuse before reading the body.
            req.flushHeaders();
        } else if (chunks) {
            for (const c of chunks) req.write(c);
            req.end();
        } else {
            if (body !== undefined) req.write(body);
            req.end();
        }
    });
}

// --------------------------------------------------------------- checking

let passed = 0;
let failed = 0;
const covered = new Map(); // operationId -> Set of statuses

function report(name, errors) {
    if (errors.length === 0) {
        passed++;
        console.log(`ok   ${name}`);
    } else {
        failed++;
        console.log(`FAIL ${name}`);
        for (const e of errors) console.log(`       ${e}`);
    }
}

function mediaEssence(ct) {
    return ct.split(';')[0].trim().toLowerCase();
}
function normMedia(ct) {
    return ct.split(';').map((s) => s.trim().toLowerCase()).filter(Boolean).join('; ');
}
function findMedia(content, ct) {
    const keys = Object.keys(content);
    return keys.find((k) => normMedia(k) === normMedia(ct)) ??
        keys.find((k) => !k.includes(';') && normMedia(k) === mediaEssence(ct)) ??
        keys.find((k) => k === '*/*');
}
const isJson = (media) => /^application\/([a-z.+-]*\+)?json$/.test(mediaEssence(media));

// Query parameter values as the spec's schema types them.
function coerce(schema, raw, param) {
    const s = schema.$ref ? spec.components.schemas[schema.$ref.split('/').pop()] : schema;
    const type = s?.type;
    // style=form, explode=false: "a,b" is [a, b] and an empty value an empty list.
    if (type === 'array' && param.explode === false) return raw === '' ? [] : raw.split(',');
    if (type === 'array') return [raw];
    if (type === 'integer' || type === 'number') return raw.trim() !== '' && !isNaN(Number(raw)) ? Number(raw) : raw;
    if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
    return raw;
}

// Does the spec accept this request? Returns the list of reasons it does not.
function requestErrors(op, url, reqHeaders, jsonBody, hasBody) {
    const errors = [];
    const m = op.entry.regex.exec(url.pathname);
    op.entry.names.forEach((n, i) => {
        const p = op.params.get(`path:${n}`);
        if (!p) errors.push(`path parameter {${n}} is not declared`);
        else errors.push(...schemaErrors(p.schema, decodeURIComponent(m[i + 1]), `path {${n}}`));
    });
    for (const [name, raw] of url.searchParams) {
        const p = op.params.get(`query:${name}`);
        if (!p) errors.push(`query parameter '${name}' is not declared`);
        else errors.push(...schemaErrors(p.schema, coerce(p.schema, raw, p), `query ${name}`));
    }
    for (const p of op.params.values()) {
        if (p.in === 'header' && reqHeaders[p.name] !== undefined)
            errors.push(...schemaErrors(p.schema, reqHeaders[p.name], `header ${p.name}`));
        if (p.required && p.in === 'query' && !url.searchParams.has(p.name))
            errors.push(`query parameter '${p.name}' is required`);
    }
    const rb = op.op.requestBody ? deref(op.op.requestBody) : undefined;
    if (hasBody && !rb) errors.push('the operation takes no body');
    if (rb && rb.required && !hasBody) errors.push('the request body is required');
    if (rb && hasBody) {
        const ct = reqHeaders['Content-Type'];
        const media = ct ? findMedia(rb.content, ct) : findMedia(rb.content, 'application/octet-stream');
        if (!media) errors.push(`request Content-Type '${ct}' is not declared`);
        else if (isJson(media)) {
            if (jsonBody === undefined) errors.push('the body is not JSON');
            else errors.push(...schemaErrors(rb.content[media].schema, jsonBody, 'request body'));
        }
    }
    return errors;
}

// Is this response described by the spec? Returns the list of reasons it is not.
function responseErrors(op, method, res) {
    const errors = [];
    const status = String(res.status);
    const rspec = op.op.responses[status] ?? op.op.responses[`${status[0]}XX`] ?? op.op.responses.default;
    if (!rspec) return [`status ${status} is not documented for ${op.id}`];
    const r = deref(rspec);
    for (const [name, h0] of Object.entries(r.headers ?? {})) {
        const h = deref(h0);
        const v = res.headers[name.toLowerCase()];
        if (v === undefined) {
            if (h.required) errors.push(`required header ${name} is missing`);
        } else if (h.schema) {
            errors.push(...schemaErrors(h.schema, v, `header ${name}`));
        }
    }
    const ct = res.headers['content-type'];
    if (method === 'HEAD' && res.body.length > 0) errors.push('a HEAD response has a body');
    if (!r.content) {
        if (res.body.length > 0) errors.push(`undocumented body (${ct ?? 'no Content-Type'})`);
        return errors;
    }
    if (!ct) return [...errors, 'no Content-Type'];
    const media = findMedia(r.content, ct);
    if (!media || media === '*/*') return [...errors, `Content-Type '${ct}' is not documented for ${status}`];
    if (method === 'HEAD') return errors;
    const schema = r.content[media].schema;
    if (isJson(media)) {
        let doc;
        try {
            doc = JSON.parse(res.body.toString('utf8'));
        } catch (e) {
            return [...errors, `the body is not JSON: ${e.message}`];
        }
        if (schema) errors.push(...schemaErrors(schema, doc, 'body'));
    } else if (schema && schema.type === 'string' && !schema.contentMediaType) {
        const text = res.body.toString('utf8');
        if (!Buffer.from(text, 'utf8').equals(res.body)) errors.push('a text body is not UTF-8');
        else errors.push(...schemaErrors(schema, text, 'body'));
    }
    return errors;
}

// A problem+json for a request the spec has no operation for (405, unknown URL).
function problemErrors(res, status, code) {
    const errors = [];
    if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? ''))
        errors.push(`Content-Type is ${res.headers['content-type']}`);
    let doc;
    try {
        doc = JSON.parse(res.body.toString('utf8'));
    } catch {
        return [...errors, 'the body is not JSON'];
    }
    errors.push(...schemaErrors(spec.components.schemas.Problem, doc, 'body'));
    if (doc.status !== status) errors.push(`body status ${doc.status}, want ${status}`);
    if (doc.code !== code) errors.push(`code ${doc.code}, want ${code}`);
    return errors;
}

/*
 * One check: send a request and judge the answer.
 *   token: 'admin' (default), 'user', 'bad' or null (none)
 *   json: a value sent as application/json; raw: a string or Buffer body
 *   expect: { status, code, op, specRejects } - op is the operationId the URL must
 *   map to; specRejects: the spec's request schemas must refuse this input.
 *   verify(res, doc): more checks, returns a list of errors.
 */
async function check(name, { method = 'GET', path, token = 'admin', headers = {}, json, raw, chunks, declaredLength,
    expect, verify }) {
    const hdrs = { ...headers };
    let body;
    let jsonBody;
    if (json !== undefined) {
        body = typeof json === 'string' ? json : JSON.stringify(json);
        if (!('Content-Type' in hdrs)) hdrs['Content-Type'] = 'application/json';
        try { jsonBody = JSON.parse(body); } catch { jsonBody = undefined; }
    } else if (raw !== undefined) {
        body = raw;
    }
    if (body !== undefined) hdrs['Content-Length'] = Buffer.byteLength(body);
    if (declaredLength !== undefined) hdrs['Content-Length'] = declaredLength;
    if (token) hdrs.Authorization = `Bearer ${tokens[token]}`;
    for (const k of Object.keys(hdrs)) if (hdrs[k] === null) delete hdrs[k];
    const hasBody = body !== undefined || chunks !== undefined || declaredLength !== undefined;

    let res;
    try {
        res = await send({ method, path, headers: hdrs, body, declaredLength, chunks });
    } catch (e) {
        report(name, [`request failed: ${e.message}`]);
        return undefined;
    }
    const errors = [];
    // Not new URL(): it would resolve %2E%2E segments that the daemon must see and refuse.
    const q = path.indexOf('?');
    const url = { pathname: q < 0 ? path : path.slice(0, q), searchParams: new URLSearchParams(q < 0 ? '' : path.slice(q + 1)) };
    const entry = findPath(url.pathname);
    let op = entry && ops.find((o) => o.entry === entry && o.method === method);
    // Every GET also answers HEAD (info.description): judge it as the GET without a body.
    if (entry && !op && method === 'HEAD') op = ops.find((o) => o.entry === entry && o.method === 'GET');

    if (res.status !== expect.status) errors.push(`status ${res.status}, want ${expect.status}`);
    errors.push(...res.leaked);
    // info.description: every response carries these.
    if (res.headers['cache-control'] !== 'no-store') errors.push(`Cache-Control is ${res.headers['cache-control']}`);
    if (res.headers['x-content-type-options'] !== 'nosniff')
        errors.push(`X-Content-Type-Options is ${res.headers['x-content-type-options']}`);
    let doc;
    if (/json/.test(res.headers['content-type'] ?? '') && res.body.length) {
        try { doc = JSON.parse(res.body.toString('utf8')); } catch { /* reported below */ }
    }
    if (expect.code && method !== 'HEAD' && doc?.code !== expect.code) errors.push(`code ${doc?.code}, want ${expect.code}` +
        (doc?.detail ? ` (${doc.detail})` : ''));
    if (!entry) {
        errors.push(...(res.status === 404 ? problemErrors(res, 404, 'no-such-endpoint')
            : [`${url.pathname} is in no path of the spec and the answer is ${res.status}`]));
    } else if (!op) {
        // The spec's methods for this path are exactly the ones the daemon allows.
        errors.push(...problemErrors(res, 405, 'method-not-allowed'));
        const want = new Set(entry.methods);
        if (want.has('GET')) want.add('HEAD');
        const got = new Set((res.headers.allow ?? '').split(',').map((s) => s.trim()).filter(Boolean));
        if ([...want].sort().join() !== [...got].sort().join())
            errors.push(`Allow is '${res.headers.allow}', the spec has ${[...want].join(', ')}`);
    } else {
        if (expect.op && op.id !== expect.op) errors.push(`the URL maps to ${op.id}, want ${expect.op}`);
        errors.push(...responseErrors(op, method, res));
        if (op.method === method) {
            if (!covered.has(op.id)) covered.set(op.id, new Set());
            covered.get(op.id).add(res.status);
        }
        const reqErrs = requestErrors(op, url, hdrs, jsonBody, hasBody && declaredLength === undefined);
        if (res.status < 400 && reqErrs.length)
            errors.push(...reqErrs.map((e) => `the daemon accepted what the spec refuses: ${e}`));
        if (expect.specRejects && reqErrs.length === 0)
            errors.push('the spec accepts this input, the daemon refuses it');
    }
    if (verify && errors.length === 0) {
        try {
            errors.push(...(verify(res, doc) ?? []));
        } catch (e) {
            errors.push(`verify: ${e.message}`);
        }
    }
    if (opt.verbose && errors.length) errors.push(`body: ${res.body.toString('utf8').slice(0, 400)}`);
    report(`${method} ${path.length > 90 ? path.slice(0, 87) + '...' : path} -> ${expect.status}` +
        (expect.code ? ` ${expect.code}` : '') + (name ? ` (${name})` : ''), errors);
    return { ...res, doc };
}

const want = (cond, msg) => (cond ? [] : [msg]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- fixtures

const shares = join(work, 'shares');
const web = join(work, 'web');
rmSync(shares, { recursive: true, force: true });
mkdirSync(join(shares, 'docs', 'sub'), { recursive: true });
mkdirSync(join(shares, 'docs', 'empty'), { recursive: true });
mkdirSync(join(shares, 'other'), { recursive: true });
mkdirSync(join(shares, 'flaky'), { recursive: true });
mkdirSync(join(shares, 'nocache'), { recursive: true });
mkdirSync(web, { recursive: true });
const hello = 'hello, offline world\n';
writeFileSync(join(shares, 'docs', 'a.txt'), hello);
writeFileSync(join(shares, 'docs', 'sub', 'b.txt'), 'bee\n');
writeFileSync(join(shares, 'docs', 'sub', 'c.md'), '# c\n');
writeFileSync(join(shares, 'other', 'x.txt'), 'x\n');
mkdirSync(join(shares, 'docs', 'morph', 'dir'), { recursive: true });
writeFileSync(join(shares, 'docs', 'morph', 'file'), 'a file for now\n');
writeFileSync(join(web, 'index.html'), '<!doctype html><title>offlinefiles</title>\n');
writeFileSync(join(web, 'app.js'), 'console.log("dashboard");\n');
writeFileSync(join(web, 'style.css'), 'body { margin: 0 }\n');
writeFileSync(join(web, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
writeFileSync(join(web, 'manifest.json'), '{"name":"offlinefiles"}\n');
writeFileSync(join(web, 'blob.bin'), Buffer.from([0, 1, 2, 3, 255]));
writeFileSync(join(web, '.hidden'), 'secret\n');

const remote = (dir) => `file://${join(shares, dir)}`;
const MiB = 1024 * 1024;
const bigJson = JSON.stringify({ server: 'x'.repeat(MiB + 16) });

// ------------------------------------------------- the route table vs the spec

// Every (method, pattern, handler) of api/routes.c is an operation of the spec with
// that x-handler, and every operation of the spec is a route: nothing undocumented.
{
    const src = readFileSync(opt.routes, 'utf8');
    const bits = { GET_: ['GET', 'HEAD'], API_GET: ['GET'], API_HEAD: ['HEAD'], API_POST: ['POST'],
        API_PUT: ['PUT'], API_PATCH: ['PATCH'], API_DELETE: ['DELETE'] };
    const routes = [];
    const rx = /\{\s*\.methods\s*=\s*([^,]+?),\s*\.pattern\s*=\s*"([^"]+)",\s*\.handler\s*=\s*(\w+)/g;
    for (const m of src.matchAll(rx)) {
        const methods = m[1].split('|').flatMap((t) => bits[t.trim()] ?? [`?${t.trim()}`]);
        for (const method of methods) routes.push({ method, pattern: m[2], handler: m[3] });
    }
    const norm = (p) => p.replace(/\{[^}]*\}/g, '{}').replace(/\*\*$/, '{}');
    const errors = routes.length ? [] : [`no routes found in ${opt.routes}`];
    for (const r of routes) {
        const op = ops.find((o) => norm(o.template) === norm(r.pattern) && o.method === r.method) ??
            (r.method === 'HEAD' ? ops.find((o) => norm(o.template) === norm(r.pattern) && o.method === 'GET') : undefined);
        if (!op) errors.push(`route ${r.method} ${r.pattern} (${r.handler}) is not in the spec`);
        else if (op.op['x-handler'] !== r.handler)
            errors.push(`route ${r.method} ${r.pattern} is served by ${r.handler}, the spec says ${op.op['x-handler']}`);
    }
    for (const o of ops)
        if (!routes.some((r) => norm(r.pattern) === norm(o.template) && r.method === o.method))
            errors.push(`operation ${o.id} (${o.method} ${o.template}) has no route in routes.c`);
    report(`the spec has exactly the ${routes.length} route methods of ${opt.routes.split('/').slice(-2).join('/')}`, errors);
}

// ----------------------------------------------------------------- the run

process.on('uncaughtException', (e) => {
    report('the check itself', [`crashed: ${e.stack}`]);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(1);
});

// Meta
await check('', { path: '/api/v1/health', token: null, expect: { status: 200, op: 'healthGet' } });
await check('HEAD like GET', { method: 'HEAD', path: '/api/v1/health', token: null, expect: { status: 200 } });
await check('', {
    path: '/api/v1/version', expect: { status: 200, op: 'versionGet' },
    verify: (r, d) => want(d.user.admin === true, 'admin token not admin'),
});
await check('user token', {
    path: '/api/v1/version', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.user.admin === false && d.user.name === 'bob', `user is ${JSON.stringify(d.user)}`),
});
await check('unknown token', { path: '/api/v1/version', token: 'bad', expect: { status: 401, code: 'unauthorized' } });
await check('not a bearer', {
    path: '/api/v1/version', token: null, headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    expect: { status: 401, code: 'unauthorized' },
});
await check('the embedded spec is this file', {
    path: '/api/v1/openapi.yaml', expect: { status: 200, op: 'openapiGet' },
    verify: (r) => want(r.body.toString('utf8') === specText,
        'the daemon serves a different openapi.yaml (rebuild the daemon?)'),
});

// Every secured operation refuses a request without a token.
const sample = {
    server: 'srv', share: 'docs', path: 'srv/docs/a.txt', file: 'app.js', id: '1',
};
for (const op of ops) {
    const sec = op.op.security ?? spec.security;
    if (!sec || sec.length === 0) continue;
    const path = op.template.replace(/\{([^}]+)\}/g, (_, n) => sample[n]);
    const opts = { method: op.method, path, token: null, expect: { status: 401, code: 'unauthorized', op: op.id } };
    if (op.op.requestBody && deref(op.op.requestBody).content['application/json']) opts.json = {};
    await check('no token', opts);
}

// Shares
await check('', {
    method: 'POST', path: '/api/v1/shares',
    json: { server: 'srv', share: 'docs', remote: remote('docs'), cachingMode: 'auto' },
    expect: { status: 201, op: 'sharesCreate' },
    verify: (r, d) => [
        ...want(r.headers.location === '/api/v1/shares/srv/docs', `Location ${r.headers.location}`),
        ...want(d.path === '//srv/docs' && d.connection.state === 'online', 'not online'),
    ],
});
await check('default caching mode', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'other', remote: remote('other') },
    expect: { status: 201 }, verify: (r, d) => want(d.cachingMode === 'manual', `cachingMode ${d.cachingMode}`),
});
await check('', {
    method: 'POST', path: '/api/v1/shares',
    json: { server: 'srv2', share: 'nocache', remote: remote('nocache'), cachingMode: 'noCaching' },
    expect: { status: 201 },
});
await check('', {
    method: 'POST', path: '/api/v1/shares',
    json: { server: 'srv3', share: 'flaky', remote: remote('flaky'), cachingMode: 'autoPrograms' },
    expect: { status: 201 },
});
await check('root missing: added offline', {
    method: 'POST', path: '/api/v1/shares',
    json: { server: 'srv3', share: 'gone', remote: remote('does-not-exist') },
    expect: { status: 201 },
    verify: (r, d) => want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
        typeof d.connection.lastError === 'string' && typeof d.connection.nextProbeAt === 'string' &&
        d.connection.latencyMs === null, `connection ${JSON.stringify(d.connection)}`),
});
await check('duplicate', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'docs', remote: remote('docs') },
    expect: { status: 409, code: 'already-exists' },
});
await check('unknown field', {
    method: 'POST', path: '/api/v1/shares',
    json: { server: 'srv', share: 'z', remote: remote('docs'), colour: 'blue' },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/shares', json: '{"server": "srv",',
    expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('not an object', {
    method: 'POST', path: '/api/v1/shares', json: '[1, 2]',
    expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('duplicate key', {
    method: 'POST', path: '/api/v1/shares', json: '{"server":"a","server":"b","share":"c","remote":"file:///tmp"}',
    expect: { status: 400, code: 'malformed-json' },
});
await check('missing remote', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'z' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('empty body', {
    method: 'POST', path: '/api/v1/shares', raw: '', headers: { 'Content-Type': 'application/json' },
    expect: { status: 400, code: 'invalid-field' },
});
await check('bad caching mode', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'z', remote: remote('docs'), cachingMode: 'sometimes' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('share named ..', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: '..', remote: remote('docs') },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('wrong type', {
    method: 'POST', path: '/api/v1/shares', json: { server: 7, share: 'z', remote: remote('docs') },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('relative remote', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'z', remote: 'file://relative/dir' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'srv', share: 'z', remote: remote('docs') },
    headers: { 'Content-Type': 'text/plain' }, expect: { status: 415, code: 'unsupported-media-type' },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/shares', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});
await check('chunked body over 1 MiB', {
    method: 'POST', path: '/api/v1/shares', headers: { 'Content-Type': 'application/json' },
    chunks: [bigJson.slice(0, MiB / 2), bigJson.slice(MiB / 2)],
    expect: { status: 413, code: 'payload-too-large' },
});
await check('user token', {
    method: 'POST', path: '/api/v1/shares', token: 'user', json: { server: 'u', share: 'u', remote: remote('docs') },
    expect: { status: 403, code: 'forbidden' },
});

await check('', {
    path: '/api/v1/shares', expect: { status: 200, op: 'sharesList' },
    verify: (r, d) => want(d.shares.length === 5, `${d.shares.length} shares`),
});
await check('user token', { path: '/api/v1/shares', token: 'user', expect: { status: 200 } });
await check('', { path: '/api/v1/shares/srv/docs', expect: { status: 200, op: 'sharesGet' } });
await check('', { path: '/api/v1/shares/srv/nosuch', expect: { status: 404, code: 'no-such-share' } });
await check('', { path: '/api/v1/shares/nosrv/docs', expect: { status: 404, code: 'no-such-share' } });

await check('', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: { cachingMode: 'autoPrograms' },
    expect: { status: 200, op: 'sharesUpdate' },
    verify: (r, d) => want(d.cachingMode === 'autoPrograms', `cachingMode ${d.cachingMode}`),
});
await check('new remote', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: { remote: remote('other'), cachingMode: 'manual' },
    expect: { status: 200 },
});
await check('empty object', { method: 'PATCH', path: '/api/v1/shares/srv/other', json: {}, expect: { status: 200 } });
await check('no body', { method: 'PATCH', path: '/api/v1/shares/srv/other', expect: { status: 200 } });
await check('unknown field', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: { server: 'elsewhere' },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('wrong type', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: { cachingMode: 5 },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('bad remote', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: { remote: 'gopher://x' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('', {
    method: 'PATCH', path: '/api/v1/shares/srv/nosuch', json: { cachingMode: 'auto' },
    expect: { status: 404, code: 'no-such-share' },
});
await check('user token', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', token: 'user', json: {},
    expect: { status: 403, code: 'forbidden' },
});
await check('text/plain body', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', json: {}, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type' },
});
await check('Content-Length over 1 MiB', {
    method: 'PATCH', path: '/api/v1/shares/srv/other', declaredLength: MiB + 1,
    headers: { 'Content-Type': 'application/json' }, expect: { status: 413, code: 'payload-too-large' },
});

await check('', {
    path: '/api/v1/servers', expect: { status: 200, op: 'serversList' },
    verify: (r, d) => want(d.servers.map((s) => s.server).join() === 'srv,srv2,srv3',
        `servers ${d.servers.map((s) => s.server)}`),
});

// Shares over WebDAV and their connection settings. A small WebDAV server of
// this check's own answers PROPFIND on its collection /dav/ (empty) and
// requires the credentials the share is given: a share online proves the
// daemon sent them. It can be down (503) or slow (delay) on demand.
const dav = {
    up: true, delayMs: 0, user: 'davuser',
    password: `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    token: `tok-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    seen: new Set(), // the kinds of Authorization the server was sent
};
const addSecret = (sec, user) => {
    secrets.add(sec);
    if (user !== undefined) secrets.add(Buffer.from(`${user}:${sec}`).toString('base64'));
};
addSecret(dav.password, dav.user);
addSecret(dav.token);
const davServer = http.createServer((req, res) => {
    const answer = () => {
        const auth = req.headers.authorization ?? '';
        if (auth) dav.seen.add(auth.split(' ')[0]);
        if (!dav.up) {
            res.writeHead(503, { 'Content-Length': 0 });
            return res.end();
        }
        if (auth !== `Basic ${Buffer.from(`${dav.user}:${dav.password}`).toString('base64')}` && auth !== `Bearer ${dav.token}`) {
            res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="dav"', 'Content-Length': 0 });
            return res.end();
        }
        const p = new URL(req.url, 'http://x').pathname;
        if (req.method !== 'PROPFIND' || (p !== '/dav/' && p !== '/dav')) {
            res.writeHead(req.method === 'PROPFIND' ? 404 : 405, { 'Content-Length': 0 });
            return res.end();
        }
        const xml = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response>' +
            '<D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype>' +
            '<D:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</D:getlastmodified></D:prop>' +
            '<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>\n';
        res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
        res.end(xml);
    };
    req.resume();
    req.on('end', () => (dav.delayMs ? setTimeout(answer, dav.delayMs) : answer()));
});
await new Promise((resolve) => davServer.listen(0, '127.0.0.1', resolve));
davServer.unref();
const davUrl = `http://127.0.0.1:${davServer.address().port}/dav/`;
const closedUrl = (scheme) => `${scheme}://127.0.0.1:1/dav/`; // nothing listens on port 1
const conn = async (p) => (await raw('GET', `/api/v1/connection/${p}`)).doc;
const shareSettings = (d, want_) => Object.entries(want_).filter(([k, v]) => JSON.stringify(d[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${k} is ${JSON.stringify(d[k])}, want ${JSON.stringify(v)}`);

await check('WebDAV, basic auth, every setting', {
    method: 'POST', path: '/api/v1/shares',
    json: {
        server: 'dav', share: 'basic', remote: davUrl, cachingMode: 'manual',
        auth: { type: 'basic', username: dav.user, password: dav.password },
        caFile: '', insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
    },
    expect: { status: 201 },
    verify: (r, d) => [
        ...shareSettings(d, {
            remote: davUrl, auth: { type: 'basic', username: dav.user, secretSet: true }, caFile: null,
            insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
        }),
        ...want(d.connection.state === 'online', `the credentials did not work: ${JSON.stringify(d.connection)}`),
        ...want(dav.seen.has('Basic'), 'the server was never sent basic credentials'),
    ],
});
await check('WebDAV, defaults', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'dav', share: 'anon', remote: closedUrl('http') },
    expect: { status: 201 },
    verify: (r, d) => [
        ...shareSettings(d, {
            auth: { type: 'none', username: null, secretSet: false }, caFile: null, insecure: false,
            transfers: 4, offlineOnSlowLink: false, slowLinkMs: 0,
        }),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.nextProbeAt === 'string' && d.connection.latencyMs === null,
        `connection ${JSON.stringify(d.connection)}`),
    ],
});
const digestPassword = `dg-${Date.now().toString(36)}`;
addSecret(digestPassword, 'dguser');
await check('https, digest auth, a CA file, limits', {
    method: 'POST', path: '/api/v1/shares',
    json: {
        server: 'dav', share: 'tls', remote: closedUrl('https'), cachingMode: 'auto',
        auth: { type: 'digest', username: 'dguser', password: digestPassword },
        caFile: '/etc/ssl/certs/ca-certificates.crt', insecure: true, transfers: 32, offlineOnSlowLink: true, slowLinkMs: 600000,
    },
    expect: { status: 201 },
    verify: (r, d) => shareSettings(d, {
        remote: closedUrl('https'), auth: { type: 'digest', username: 'dguser', secretSet: true },
        caFile: '/etc/ssl/certs/ca-certificates.crt', insecure: true, transfers: 32, offlineOnSlowLink: true, slowLinkMs: 600000,
    }),
});
await check('a WebDAV share', {
    path: '/api/v1/shares/dav/basic', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.auth.secretSet === true && !('password' in d.auth), JSON.stringify(d.auth)),
});
await check('every share, none with its secret', { path: '/api/v1/shares', expect: { status: 200 } });

// Refused share settings: nothing is added or changed.
const davShare = (extra) => ({ server: 'dav', share: 'bad', remote: davUrl, ...extra });
const refusedShares = [
    ['an unknown auth field', { auth: { type: 'basic', username: 'u', password: 'p', realm: 'x' } }, 'unknown-field'],
    ['an unknown auth type', { auth: { type: 'kerberos' } }, 'invalid-field'],
    ['auth without a type', { auth: { username: 'u', password: 'p' } }, 'invalid-field'],
    ['auth not an object', { auth: 'basic' }, 'invalid-field'],
    ['basic without a password', { auth: { type: 'basic', username: 'u' } }, 'invalid-field'],
    ['basic without a username', { auth: { type: 'basic', password: 'p' } }, 'invalid-field'],
    ['digest with a token', { auth: { type: 'digest', username: 'u', token: 't' } }, 'invalid-field'],
    ['bearer without a token', { auth: { type: 'bearer' } }, 'invalid-field'],
    ['bearer with a password', { auth: { type: 'bearer', password: 'p' } }, 'invalid-field'],
    ['none with a token', { auth: { type: 'none', token: 't' } }, 'invalid-field'],
    ['a password not a string', { auth: { type: 'basic', username: 'u', password: 5 } }, 'invalid-field'],
    ['a relative caFile', { caFile: 'certs/ca.pem' }, 'invalid-field'],
    ['caFile not a string', { caFile: 1 }, 'invalid-field'],
    ['transfers 0', { transfers: 0 }, 'invalid-field'],
    ['transfers 33', { transfers: 33 }, 'invalid-field'],
    ['transfers 2.5', { transfers: 2.5 }, 'invalid-field'],
    ['transfers a string', { transfers: '4' }, 'invalid-field'],
    ['slowLinkMs -1', { slowLinkMs: -1 }, 'invalid-field'],
    ['slowLinkMs 600001', { slowLinkMs: 600001 }, 'invalid-field'],
    ['insecure not a boolean', { insecure: 'yes' }, 'invalid-field'],
    ['offlineOnSlowLink not a boolean', { offlineOnSlowLink: 1 }, 'invalid-field'],
    ['an ftp remote', { remote: 'ftp://127.0.0.1/dav/' }, 'invalid-field'],
    ['credentials in the URL', { remote: `http://u:p@127.0.0.1:${davServer.address().port}/dav/` }, 'invalid-field'],
    ['a query in the URL', { remote: `${davUrl}?x=1` }, 'invalid-field'],
    ['a fragment in the URL', { remote: `${davUrl}#top` }, 'invalid-field'],
];
for (const [name, extra, code] of refusedShares)
    await check(name, {
        method: 'POST', path: '/api/v1/shares', json: davShare(extra), expect: { status: 400, code, specRejects: true },
    });
await check('user token, with auth', {
    method: 'POST', path: '/api/v1/shares', token: 'user',
    json: davShare({ auth: { type: 'bearer', token: dav.token } }), expect: { status: 403, code: 'forbidden' },
});
await check('none of the refused shares was added', {
    path: '/api/v1/shares/dav/bad', expect: { status: 404, code: 'no-such-share' },
});
// An http URL with an empty host is invalid (RFC 9110, 4.2.1: a recipient MUST reject it).
await check('a URL without a host', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'dav', share: 'nohost', remote: 'http:///dav/' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
if ((await raw('GET', '/api/v1/shares/dav/nohost')).status === 200) await raw('DELETE', '/api/v1/shares/dav/nohost');
for (const [name, extra, code] of refusedShares)
    await check(name, {
        method: 'PATCH', path: '/api/v1/shares/dav/basic', json: extra, expect: { status: 400, code, specRejects: true },
    });
await check('an smb remote', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { remote: 'smb://srv/share' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('the refused patches changed nothing', {
    path: '/api/v1/shares/dav/basic', expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, {
            remote: davUrl, auth: { type: 'basic', username: dav.user, secretSet: true }, caFile: null,
            insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
        }),
        ...want(d.connection.state === 'online', JSON.stringify(d.connection)),
    ],
});

// Changing the way to the server reconnects: a wrong password takes the share offline.
const wrongPassword = `wrong-${Date.now().toString(36)}`;
addSecret(wrongPassword, dav.user);
await check('a wrong password', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'basic', username: dav.user, password: wrongPassword } },
    expect: { status: 200 },
    verify: (r, d) => [
        ...want(d.auth.secretSet === true, JSON.stringify(d.auth)),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.lastError === 'string' && typeof d.connection.nextProbeAt === 'string',
        `connection ${JSON.stringify(d.connection)}`),
    ],
});
await check('bearer token', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'bearer', token: dav.token } },
    expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, { auth: { type: 'bearer', username: null, secretSet: true } }),
        ...want(d.connection.state === 'online', `the token did not work: ${JSON.stringify(d.connection)}`),
        ...want(dav.seen.has('Bearer'), 'the server was never sent the token'),
    ],
});
await check('TLS settings and transfers', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { caFile: '/nonexistent/ca.pem', insecure: true, transfers: 1 },
    expect: { status: 200 },
    verify: (r, d) => shareSettings(d, {
        auth: { type: 'bearer', username: null, secretSet: true }, caFile: '/nonexistent/ca.pem', insecure: true, transfers: 1,
    }),
});
await check('an empty caFile: the system\'s CAs', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { caFile: '', insecure: false },
    expect: { status: 200 }, verify: (r, d) => shareSettings(d, { caFile: null, insecure: false, transfers: 1 }),
});
await check('back to basic auth', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'basic', username: dav.user, password: dav.password } },
    expect: { status: 200 },
    verify: (r, d) => want(d.connection.state === 'online' && d.auth.type === 'basic', JSON.stringify(d.connection)),
});
await check('no auth', {
    method: 'PATCH', path: '/api/v1/shares/dav/tls', json: { auth: { type: 'none' }, remote: closedUrl('http') },
    expect: { status: 200 },
    verify: (r, d) => shareSettings(d, { auth: { type: 'none', username: null, secretSet: false }, remote: closedUrl('http') }),
});

// A slow link: a probe that takes longer than slowLinkMs takes the share offline
// (reason slow) when offlineOnSlowLink is set. The share goes down first (a reopen
// fails), so that the prober soon measures it again.
dav.up = false;
await check('the server goes down', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { transfers: 3, offlineOnSlowLink: true, slowLinkMs: 50 },
    expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, { transfers: 3, offlineOnSlowLink: true, slowLinkMs: 50 }),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.nextProbeAt === 'string', JSON.stringify(d.connection)),
    ],
});
dav.up = true;
dav.delayMs = 300;
await until('the prober to find the link slow', async () => (await conn('dav/basic'))?.reason === 'slow');
await check('offline on a slow link', {
    path: '/api/v1/connection/dav/basic', expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'slow' && d.slow === true && d.latencyMs >= 300 &&
        typeof d.nextProbeAt === 'string' && /slow-link/.test(d.lastError ?? ''), JSON.stringify(d)),
});
await check('offline on a slow link', {
    path: '/api/v1/connection/dav', expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline', JSON.stringify(d)),
});
await check('stay online on a slow link', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { offlineOnSlowLink: false },
    expect: { status: 200 }, verify: (r, d) => shareSettings(d, { offlineOnSlowLink: false, slowLinkMs: 50, transfers: 3 }),
});
// Up again on the same slow link, not set to go offline on it: transparently cached.
await until('the prober to bring the share back', async () => (await conn('dav/basic'))?.state === 'transparentlyCached');
dav.delayMs = 0;
await check('back up on a slow link, latency measured: transparently cached', {
    path: '/api/v1/shares/dav/basic', expect: { status: 200 },
    verify: (r, d) => want(d.connection.state === 'transparentlyCached' && d.connection.reason === null &&
        d.connection.slow === true && Number.isInteger(d.connection.latencyMs) && d.connection.latencyMs >= 300 &&
        d.connection.nextProbeAt === null,
    JSON.stringify(d.connection)),
});
await check('forced offline: no probe planned', {
    method: 'PUT', path: '/api/v1/connection/dav/anon', json: { state: 'offline' }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'forced' && d.nextProbeAt === null, JSON.stringify(d)),
});
for (const s of ['basic', 'anon', 'tls'])
    await check('', { method: 'DELETE', path: `/api/v1/shares/dav/${s}`, expect: { status: 204 } });

// Files, online
await check('share root listing', {
    path: '/api/v1/files/srv/docs', expect: { status: 200, op: 'filesGet' },
    verify: (r, d) => want(d && d.offline === false && d.entries.some((e) => e.name === 'a.txt'),
        `listing ${JSON.stringify(d)}`),
});
await check('directory listing', { path: '/api/v1/files/srv/docs/sub', expect: { status: 200 } });
await check('listing', { method: 'HEAD', path: '/api/v1/files/srv/docs/sub', expect: { status: 200, op: 'filesHead' } });
const a1 = await check('file', {
    path: '/api/v1/files/srv/docs/a.txt', expect: { status: 200 },
    verify: (r) => [
        ...want(r.body.toString() === hello, 'wrong bytes'),
        ...want(r.headers['content-type'] === 'application/octet-stream', 'not octet-stream'),
        ...want(r.headers.etag !== undefined, 'no ETag'),
    ],
});
const etagA = a1?.headers.etag;
await check('percent-encoded slashes', { path: '/api/v1/files/srv%2Fdocs%2Fa.txt', expect: { status: 200 } });
await check('file', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/a.txt', expect: { status: 200 },
    verify: (r) => want(r.headers.etag === etagA && r.headers['content-length'] === String(hello.length),
        `ETag ${r.headers.etag}, Content-Length ${r.headers['content-length']}`),
});
await check('If-None-Match', {
    path: '/api/v1/files/srv/docs/a.txt', headers: { 'If-None-Match': etagA }, expect: { status: 304 },
});
await check('If-None-Match list', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/a.txt', headers: { 'If-None-Match': `"nope", ${etagA}` },
    expect: { status: 304 },
});
await check('If-None-Match other', {
    path: '/api/v1/files/srv/docs/a.txt', headers: { 'If-None-Match': '"nope"' }, expect: { status: 200 },
});
await check('Range', {
    path: '/api/v1/files/srv/docs/a.txt', headers: { Range: 'bytes=0-4' }, expect: { status: 206 },
    verify: (r) => [
        ...want(r.body.toString() === 'hello', `bytes '${r.body}'`),
        ...want(r.headers['content-range'] === `bytes 0-4/${hello.length}`, `Content-Range ${r.headers['content-range']}`),
    ],
});
await check('suffix Range', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/a.txt', headers: { Range: 'bytes=-6' }, expect: { status: 206 },
});
await check('Range past the end', {
    path: '/api/v1/files/srv/docs/a.txt', headers: { Range: 'bytes=1000-' },
    expect: { status: 416, code: 'range-not-satisfiable' },
});
await check('Range past the end', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/a.txt', headers: { Range: 'bytes=1000-' }, expect: { status: 416 },
});
await check('multi-range is ignored', {
    path: '/api/v1/files/srv/docs/a.txt', headers: { Range: 'bytes=0-1,3-4' }, expect: { status: 200 },
});
await check('', { path: '/api/v1/files/srv/docs/nothere.txt', expect: { status: 404, code: 'not-found' } });
await check('', { method: 'HEAD', path: '/api/v1/files/srv/docs/nothere.txt', expect: { status: 404 } });
await check('', { path: '/api/v1/files/srv/nosuch/a.txt', expect: { status: 404, code: 'no-such-share' } });
await check('dot-dot segment', {
    path: '/api/v1/files/srv/docs/%2E%2E/a.txt', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('empty segment', {
    path: '/api/v1/files/srv/docs//a.txt', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('control byte', {
    path: '/api/v1/files/srv/docs/a%01b', expect: { status: 400, code: 'invalid-path' },
});
await check('server alone', { path: '/api/v1/files/srv', expect: { status: 400, code: 'invalid-path' } });
const longPath = 'srv/docs/' + Array.from({ length: 30 }, () => 'd'.repeat(200)).join('/');
await check('path over 4096 bytes', {
    path: `/api/v1/files/${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
await check('file below a file', { path: '/api/v1/files/srv/docs/a.txt/x', expect: { status: 404 } });
await check('bad path', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/%2E%2E/a.txt', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'HEAD', path: `/api/v1/files/${longPath}`, expect: { status: 414, specRejects: true },
});
// The share changes behind the cache's back: a listed directory becomes a file, a read file a directory.
await check('list the morphing items', {
    path: '/api/v1/files/srv/docs/morph', expect: { status: 200 },
    verify: (r, d) => want(d.entries.map((e) => e.name).join() === 'dir,file', `entries ${d.entries.map((e) => e.name)}`),
});
await check('read the morphing file', { path: '/api/v1/files/srv/docs/morph/file', expect: { status: 200 } });
rmSync(join(shares, 'docs', 'morph'), { recursive: true });
mkdirSync(join(shares, 'docs', 'morph', 'file'), { recursive: true });
writeFileSync(join(shares, 'docs', 'morph', 'dir'), 'now a file\n');
await check('cached directory now a file', {
    path: '/api/v1/files/srv/docs/morph/dir', expect: { status: 409, code: 'not-a-directory' },
});
await check('cached directory now a file', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/morph/dir', expect: { status: 409 },
});
// The read finds a directory and falls back to listing: online, the server decides.
await check('cached file now a directory', {
    path: '/api/v1/files/srv/docs/morph/file', expect: { status: 200 },
});

const n1 = await check('create', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'version 1\n',
    headers: { 'Content-Type': 'text/plain' }, expect: { status: 201, op: 'filesPut' },
    verify: (r, d) => want(d.created === true && d.storedOffline === false && d.item.path === '//srv/docs/new.txt',
        JSON.stringify(d)),
});
const g1 = await check('read back', { method: 'HEAD', path: '/api/v1/files/srv/docs/new.txt', expect: { status: 200 } });
const etagN = g1?.headers.etag;
await check('replace with If-Match', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'version 2\n', headers: { 'If-Match': etagN },
    expect: { status: 200 }, verify: (r, d) => want(d.created === false, 'created'),
});
await check('stale If-Match', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'version 3\n', headers: { 'If-Match': etagN },
    expect: { status: 412, code: 'precondition-failed' },
});
await check('If-Match *', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'version 3\n', headers: { 'If-Match': '*' },
    expect: { status: 200 },
});
await check('If-None-Match * on an existing file', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'x', headers: { 'If-None-Match': '*' },
    expect: { status: 412, code: 'precondition-failed' },
});
await check('If-None-Match * creates', {
    method: 'PUT', path: '/api/v1/files/srv/docs/sub/created.bin', raw: Buffer.from([1, 2, 3]),
    headers: { 'If-None-Match': '*', 'Content-Type': 'application/octet-stream' }, expect: { status: 201 },
});
await check('If-None-Match with an ETag', {
    method: 'PUT', path: '/api/v1/files/srv/docs/new.txt', raw: 'x', headers: { 'If-None-Match': '"abc"' },
    expect: { status: 400, code: 'invalid-request', specRejects: true },
});
await check('empty file', { method: 'PUT', path: '/api/v1/files/srv/docs/empty.txt', raw: '', expect: { status: 201 } });
await check('onto a directory', {
    method: 'PUT', path: '/api/v1/files/srv/docs/sub', raw: 'x', expect: { status: 409, code: 'not-a-file' },
});
await check('onto a share root', {
    method: 'PUT', path: '/api/v1/files/srv/docs', raw: 'x', expect: { status: 409, code: 'not-a-file' },
});
await check('parent missing', {
    method: 'PUT', path: '/api/v1/files/srv/docs/nodir/x.txt', raw: 'x', expect: { status: 409, code: 'parent-missing' },
});
await check('', {
    method: 'PUT', path: '/api/v1/files/srv/nosuch/x.txt', raw: 'x', expect: { status: 404, code: 'no-such-share' },
});
await check('dot-dot segment', {
    method: 'PUT', path: '/api/v1/files/srv/docs/%2E%2E/x.txt', raw: 'x',
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'PUT', path: `/api/v1/files/${longPath}`, raw: 'x', expect: { status: 414, code: 'uri-too-long' },
});
await check('Content-Length over the upload limit', {
    method: 'PUT', path: '/api/v1/files/srv/docs/huge.bin', declaredLength: 100 * 1024 * 1024 * 1024,
    expect: { status: 413, code: 'payload-too-large' },
});

await check('', {
    method: 'POST', path: '/api/v1/files/srv/docs/newdir', json: { type: 'directory' },
    expect: { status: 201, op: 'filesCreate' },
    verify: (r, d) => want(d.item.type === 'directory' && d.created, JSON.stringify(d)),
});
await check('exists', {
    method: 'POST', path: '/api/v1/files/srv/docs/newdir', json: { type: 'directory' },
    expect: { status: 409, code: 'already-exists' },
});
await check('parent missing', {
    method: 'POST', path: '/api/v1/files/srv/docs/nodir/deeper', json: { type: 'directory' },
    expect: { status: 409, code: 'parent-missing' },
});
await check('type file', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', json: { type: 'file' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('no body', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', json: { type: 'directory', mode: 755 },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', json: '{type: directory}',
    expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', json: { type: 'directory' }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/files/srv/docs/f', declaredLength: 5 * MiB,
    headers: { 'Content-Type': 'application/json' }, expect: { status: 413, code: 'payload-too-large' },
});
await check('', {
    method: 'POST', path: '/api/v1/files/srv/nosuch/d', json: { type: 'directory' },
    expect: { status: 404, code: 'no-such-share' },
});
await check('dot-dot segment', {
    method: 'POST', path: '/api/v1/files/srv/docs/%2E%2E', json: { type: 'directory' },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: `/api/v1/files/${longPath}`, json: { type: 'directory' },
    expect: { status: 414, code: 'uri-too-long' },
});

const g2 = await check('', { method: 'HEAD', path: '/api/v1/files/srv/docs/new.txt', expect: { status: 200 } });
await check('stale If-Match', {
    method: 'DELETE', path: '/api/v1/files/srv/docs/new.txt', headers: { 'If-Match': etagN },
    expect: { status: 412, code: 'precondition-failed' },
});
await check('with If-Match', {
    method: 'DELETE', path: '/api/v1/files/srv/docs/new.txt', headers: { 'If-Match': g2?.headers.etag },
    expect: { status: 200, op: 'filesDelete' },
    verify: (r, d) => want(d.path === '//srv/docs/new.txt' && d.storedOffline === false, JSON.stringify(d)),
});
await check('gone', { method: 'DELETE', path: '/api/v1/files/srv/docs/new.txt', expect: { status: 404, code: 'not-found' } });
await check('empty directory', { method: 'DELETE', path: '/api/v1/files/srv/docs/newdir', expect: { status: 200 } });
await check('non-empty directory', {
    method: 'DELETE', path: '/api/v1/files/srv/docs/sub', expect: { status: 409, code: 'directory-not-empty' },
});
await check('', {
    method: 'DELETE', path: '/api/v1/files/srv/nosuch/x', expect: { status: 404, code: 'no-such-share' },
});
await check('dot-dot segment', {
    method: 'DELETE', path: '/api/v1/files/srv/%2E%2E/x', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'DELETE', path: `/api/v1/files/${longPath}`, expect: { status: 414, code: 'uri-too-long' },
});

// Items
await check('server', {
    path: '/api/v1/items/srv', expect: { status: 200, op: 'itemsGet' },
    verify: (r, d) => want(d.type === 'server' && d.parent === null, JSON.stringify(d).slice(0, 200)),
});
await check('share', { path: '/api/v1/items/srv/docs', expect: { status: 200 } });
await check('file', {
    path: '/api/v1/items/srv/docs/a.txt', expect: { status: 200 },
    verify: (r, d) => want(d.type === 'file' && d.parent === '//srv/docs' && d.local.size === hello.length,
        JSON.stringify(d).slice(0, 300)),
});
await check('ghost', {
    path: '/api/v1/items/srv/docs/sub/b.txt', expect: { status: 200 },
    verify: (r, d) => want(d.ghosted === true, 'not a ghost'),
});
await check('', { path: '/api/v1/items/srv/docs/nothere', expect: { status: 404, code: 'not-found' } });
await check('dot segment', {
    path: '/api/v1/items/srv/%2E', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    path: `/api/v1/items/${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

await check('servers', {
    path: '/api/v1/items', expect: { status: 200, op: 'itemsList' },
    verify: (r, d) => want(d.items.every((i) => i.type === 'server'), 'not only servers'),
});
await check('every filter', {
    path: '/api/v1/items?under=//srv/docs&depth=all&type=file,directory&flags=file&mask=file,directory' +
        '&includeFiles=*.txt,*.md&excludeFiles=zz*&includeDirs=*&excludeDirs=zz*,yy*' +
        '&modifiedAfter=2000-01-01T00:00:00Z&modifiedBefore=2200-01-01T00:00:00.000Z&limit=50',
    expect: { status: 200 },
    verify: (r, d) => want(d.items.length > 0 && d.items.every((i) => i.type === 'file' && /\.(txt|md)$/.test(i.path)),
        `items ${d.items.map((i) => i.path)}`),
});
const p1 = await check('page 1', {
    path: '/api/v1/items?under=//srv/docs&depth=all&limit=1', expect: { status: 200 },
    verify: (r, d) => want(d.items.length === 1 && typeof d.next === 'string', `next ${d.next}`),
});
const cursor = encodeURIComponent(p1?.doc?.next ?? '//srv/docs');
await check('page 2 by cursor', {
    path: `/api/v1/items?under=//srv/docs&depth=all&limit=1&cursor=${cursor}`, expect: { status: 200 },
    verify: (r, d) => want(d.items.length === 1 && d.items[0].path !== p1?.doc?.items[0].path, 'same page'),
});
await check('page 2 by next', {
    path: `/api/v1/items?under=//srv/docs&depth=all&limit=1&next=${cursor}`, expect: { status: 200 },
});
await check('last page', {
    path: '/api/v1/items?under=//srv/docs&depth=all&limit=1000', expect: { status: 200 },
    verify: (r, d) => want(d.next === null, `next ${d.next}`),
});
await check('flags that must be clear', {
    path: '/api/v1/items?under=//srv&depth=all&flags=&mask=ghosted,dirty', expect: { status: 200 },
    verify: (r, d) => want(d.items.every((i) => !i.ghosted && !i.change.dirty), 'a ghost or dirty item'),
});
await check('depth 2', { path: '/api/v1/items?depth=2', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 0', { path: '/api/v1/items?limit=0', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 1001', { path: '/api/v1/items?limit=1001', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit abc', { path: '/api/v1/items?limit=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown flag', { path: '/api/v1/items?flags=shiny', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown type', { path: '/api/v1/items?type=file,link', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('bad time', {
    path: '/api/v1/items?modifiedAfter=yesterday', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('a date alone', { path: '/api/v1/items?modifiedAfter=2001-02-03', expect: { status: 200 } });
await check('a time with an offset', {
    path: '/api/v1/items?modifiedBefore=2100-01-01T00:00:00.5%2B02:00', expect: { status: 200 },
});
await check('bad cursor', { path: '/api/v1/items?cursor=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('17 patterns', {
    path: `/api/v1/items?includeFiles=${Array.from({ length: 17 }, (_, i) => `p${i}`).join(',')}`,
    expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('under not a path', { path: '/api/v1/items?under=srv', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('under not cached', { path: '/api/v1/items?under=//srv/docs/nothere', expect: { status: 404, code: 'not-found' } });
await check('under a file', {
    path: '/api/v1/items?under=//srv/docs/a.txt', expect: { status: 409, code: 'not-a-directory' },
});
await check('under a file, all depths', { path: '/api/v1/items?under=//srv/docs/a.txt&depth=all', expect: { status: 200 } });
await check('under over 4096 bytes', {
    path: `/api/v1/items?under=//${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

// Cache
const c0 = await check('', { path: '/api/v1/cache', expect: { status: 200, op: 'cacheGet' } });
const limit = c0?.doc?.space?.limit ?? 1e9;
await check('limits', {
    method: 'PATCH', path: '/api/v1/cache', json: { limit, unpinnedLimit: limit + 1 },
    expect: { status: 200, op: 'cacheUpdate' },
    verify: (r, d) => want(d.space.limit === limit && d.space.unpinnedLimit === limit, JSON.stringify(d.space)),
});
await check('enable', { method: 'PATCH', path: '/api/v1/cache', json: { enabled: true }, expect: { status: 200 } });
await check('empty object', { method: 'PATCH', path: '/api/v1/cache', json: {}, expect: { status: 200 } });
await check('negative limit', {
    method: 'PATCH', path: '/api/v1/cache', json: { limit: -1 }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('not a boolean', {
    method: 'PATCH', path: '/api/v1/cache', json: { enabled: 'yes' }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('not an integer', {
    method: 'PATCH', path: '/api/v1/cache', json: { limit: 1.5 }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'PATCH', path: '/api/v1/cache', json: { location: '/tmp' }, expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('user token', {
    method: 'PATCH', path: '/api/v1/cache', token: 'user', json: {}, expect: { status: 403, code: 'forbidden' },
});
await check('text/plain body', {
    method: 'PATCH', path: '/api/v1/cache', json: {}, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type' },
});
await check('Content-Length over 1 MiB', {
    method: 'PATCH', path: '/api/v1/cache', declaredLength: 3 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// Connection, and files offline
await check('', {
    path: '/api/v1/connection/srv/docs', expect: { status: 200, op: 'connectionGet' },
    verify: (r, d) => want(d.state === 'online' && d.reason === null, JSON.stringify(d)),
});
await check('', { path: '/api/v1/connection/srv', expect: { status: 200, op: 'connectionServerGet' } });
await check('', { path: '/api/v1/connection/nosrv', expect: { status: 404, code: 'no-such-share' } });
await check('', { path: '/api/v1/connection/srv/nosuch', expect: { status: 404, code: 'no-such-share' } });
await check('force offline', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', json: { state: 'offline' },
    expect: { status: 200, op: 'connectionPut' },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'forced', JSON.stringify(d)),
});
await check('cached file offline', {
    path: '/api/v1/files/srv/docs/a.txt', expect: { status: 200 },
    verify: (r) => [
        ...want(r.body.toString() === hello, 'wrong bytes'),
        ...want(r.headers['x-offline'] === 'true' && r.headers['x-offline-source'] === 'cache',
            `X-Offline ${r.headers['x-offline']}, X-Offline-Source ${r.headers['x-offline-source']}`),
    ],
});
await check('ghost offline', {
    path: '/api/v1/files/srv/docs/sub/b.txt', expect: { status: 503, code: 'not-available-offline' },
});
await check('ghost offline', {
    method: 'HEAD', path: '/api/v1/files/srv/docs/sub/b.txt', expect: { status: 503 },
});
await check('listing offline', {
    path: '/api/v1/files/srv/docs', expect: { status: 200 },
    verify: (r, d) => want(d.offline === true, 'not offline'),
});
await check('cached empty directory offline', {
    path: '/api/v1/files/srv/docs/empty', expect: { status: 200 },
    verify: (r, d) => want(d.offline === true && d.entries.length === 0, JSON.stringify(d)),
});
await check('unknown item offline', {
    path: '/api/v1/files/srv/docs/unknown/thing', expect: { status: 503, code: 'not-available-offline' },
});
await check('create offline', {
    method: 'PUT', path: '/api/v1/files/srv/docs/offline.txt', raw: 'written offline\n', expect: { status: 201 },
    verify: (r, d) => want(d.storedOffline === true && d.item.change.createdOffline === true && d.item.change.dirty,
        JSON.stringify(d).slice(0, 300)),
});
await check('replace offline', {
    method: 'PUT', path: '/api/v1/files/srv/docs/offline.txt', raw: 'written offline, twice\n', expect: { status: 200 },
});
await check('parent missing offline', {
    method: 'PUT', path: '/api/v1/files/srv/docs/nodir/x.txt', raw: 'x', expect: { status: 409, code: 'parent-missing' },
});
await check('mkdir offline', {
    method: 'POST', path: '/api/v1/files/srv/docs/offdir', json: { type: 'directory' }, expect: { status: 201 },
    verify: (r, d) => want(d.storedOffline === true, 'not stored offline'),
});
await check('delete offline', {
    method: 'DELETE', path: '/api/v1/files/srv/docs/a.txt', expect: { status: 200 },
    verify: (r, d) => want(d.storedOffline === true, 'not stored offline'),
});
await check('deleted offline', { path: '/api/v1/files/srv/docs/a.txt', expect: { status: 404, code: 'not-found' } });
await check('delete uncached offline', {
    method: 'DELETE', path: '/api/v1/files/srv/docs/nothere', expect: { status: 404, code: 'not-found' },
});
await check('dirty items', {
    path: '/api/v1/items?under=//srv/docs&depth=all&flags=dirty', expect: { status: 200 },
    verify: (r, d) => want(d.items.length >= 3, `${d.items.length} dirty items`),
});
await check('offline items', {
    path: '/api/v1/items?under=//srv/docs&depth=all&flags=offline&type=file', expect: { status: 200 },
});
await check('server offline', {
    method: 'PUT', path: '/api/v1/connection/srv2', json: { state: 'offline' },
    expect: { status: 200, op: 'connectionServerPut' },
    verify: (r, d) => want(d.state === 'offline', JSON.stringify(d)),
});
await check('noCaching offline', {
    method: 'PUT', path: '/api/v1/files/srv2/nocache/x.txt', raw: 'x', expect: { status: 503, code: 'not-available-offline' },
});
await check('noCaching offline', {
    method: 'POST', path: '/api/v1/files/srv2/nocache/d', json: { type: 'directory' },
    expect: { status: 503, code: 'not-available-offline' },
});
await check('server online', {
    method: 'PUT', path: '/api/v1/connection/srv2', json: { state: 'online' }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'online', JSON.stringify(d)),
});
rmSync(join(shares, 'flaky'), { recursive: true, force: true });
await check('unreachable', {
    method: 'PUT', path: '/api/v1/connection/srv3/flaky', json: { state: 'online' },
    expect: { status: 503, code: 'share-unavailable' },
});
await check('unreachable', {
    method: 'PUT', path: '/api/v1/connection/srv3', json: { state: 'online' },
    expect: { status: 503, code: 'share-unavailable' },
});
await check('after a failed probe', {
    path: '/api/v1/connection/srv3/flaky', expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'connectionError', JSON.stringify(d)),
});
// The probe that failed just now knows why, and the prober takes the share from here.
await check('right after a failed probe: its error and the next probe', {
    path: '/api/v1/connection/srv3/flaky', expect: { status: 200 },
    verify: (r, d) => want(typeof d.lastError === 'string' && typeof d.nextProbeAt === 'string',
        `lastError ${JSON.stringify(d.lastError)}, nextProbeAt ${JSON.stringify(d.nextProbeAt)}`),
});
await check('bad state', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', json: { state: 'sideways' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('no state', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', json: {}, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'PUT', path: '/api/v1/connection/srv', json: { state: 'online', why: 'x' },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('text/plain body', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', json: { state: 'online' }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type' },
});
await check('text/plain body', {
    method: 'PUT', path: '/api/v1/connection/srv', json: { state: 'online' }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type' },
});
await check('Content-Length over 1 MiB', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', declaredLength: 2 * MiB,
    headers: { 'Content-Type': 'application/json' }, expect: { status: 413, code: 'payload-too-large' },
});
await check('Content-Length over 1 MiB', {
    method: 'PUT', path: '/api/v1/connection/srv', declaredLength: 2 * MiB,
    headers: { 'Content-Type': 'application/json' }, expect: { status: 413, code: 'payload-too-large' },
});
await check('', {
    method: 'PUT', path: '/api/v1/connection/srv/nosuch', json: { state: 'offline' },
    expect: { status: 404, code: 'no-such-share' },
});
await check('', {
    method: 'PUT', path: '/api/v1/connection/nosrv', json: { state: 'offline' },
    expect: { status: 404, code: 'no-such-share' },
});

// Removing shares
await check('offline changes', {
    method: 'DELETE', path: '/api/v1/shares/srv/docs', expect: { status: 409, code: 'conflict' },
});
await check('force=maybe', {
    method: 'DELETE', path: '/api/v1/shares/srv/docs?force=maybe', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('user token', {
    method: 'DELETE', path: '/api/v1/shares/srv/docs', token: 'user', expect: { status: 403, code: 'forbidden' },
});
await check('', { method: 'DELETE', path: '/api/v1/shares/srv/nosuch', expect: { status: 404, code: 'no-such-share' } });
await check('back online', {
    method: 'PUT', path: '/api/v1/connection/srv/docs', json: { state: 'online' }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'online', JSON.stringify(d)),
});
await check('force', {
    method: 'DELETE', path: '/api/v1/shares/srv/docs?force=true', expect: { status: 204, op: 'sharesDelete' },
});
await check('', { method: 'DELETE', path: '/api/v1/shares/srv/other?force=0', expect: { status: 204 } });
await check('gone', { path: '/api/v1/shares/srv/docs', expect: { status: 404, code: 'no-such-share' } });
await check('server gone with its last share', {
    path: '/api/v1/servers', expect: { status: 200 },
    verify: (r, d) => want(!d.servers.some((s) => s.server === 'srv'), 'srv still listed'),
});

// The dashboard
await check('', {
    path: '/', token: null, expect: { status: 200, op: 'staticIndex' },
    verify: (r) => want(r.body.toString().startsWith('<!doctype html>'), 'not the index'),
});
for (const f of ['index.html', 'app.js', 'style.css', 'logo.svg', 'manifest.json', 'blob.bin'])
    await check('', { path: `/web/${f}`, token: null, expect: { status: 200, op: 'staticGet' } });
rmSync(join(web, 'index.html'));
await check('no index.html', { path: '/', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('', { path: '/web/missing.js', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('dot file', { path: '/web/.hidden', token: null, expect: { status: 404, code: 'no-such-endpoint', specRejects: true } });
await check('subdirectory', { path: '/web/a/b.js', token: null, expect: { status: 404, code: 'no-such-endpoint' } });

// Sync, jobs, conflicts, and changes to the cache alone. Their own server, sy:
// main (conflicts, cache delete and rename), mass (a mass deletion held for
// confirmation) and big (a sync long enough to abort).

// Requests that only wait for the daemon (polling): not checks themselves.
async function raw(method, path, json, token = 'admin') {
    const headers = { Authorization: `Bearer ${tokens[token]}` };
    let body;
    if (json !== undefined) {
        body = JSON.stringify(json);
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(body);
    }
    const res = await send({ method, path, headers, body });
    let doc;
    try { doc = JSON.parse(res.body.toString('utf8')); } catch { /* not JSON */ }
    return { ...res, doc };
}
// Poll fn until it returns something truthy; undefined after ms (reported as a failed check).
async function until(what, fn, ms = 20000) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await fn().catch(() => undefined);
        if (v) return v;
        if (Date.now() > end) {
            report(`wait for ${what}`, [`not within ${ms / 1000} s`]);
            return undefined;
        }
        await sleep(50);
    }
}
const ENDED = ['succeeded', 'failed', 'aborted', 'interrupted'];
const jobEnded = (id) => until(`job ${id} to end`, async () => {
    const r = await raw('GET', `/api/v1/jobs/${id}`);
    return r.doc && ENDED.includes(r.doc.state) ? r.doc : undefined;
});
const jobLocation = (r, d) => want(r.headers.location === `/api/v1/jobs/${d.id}`, `Location ${r.headers.location} for job ${d.id}`);
const onServer = (rel) => (existsSync(join(shares, 'sy', rel)) ? readFileSync(join(shares, 'sy', rel), 'utf8') : undefined);

const sy = join(shares, 'sy');
mkdirSync(join(sy, 'main', 'dir'), { recursive: true });
mkdirSync(join(sy, 'mass'), { recursive: true });
mkdirSync(join(sy, 'big'), { recursive: true });
const first = (n) => `${n} as first synced\n`;
const mainFiles = ['c1.txt', 'c2.txt', 'c3.txt', 'c4.txt', 'gone.txt', 'r1.txt', 'r2.txt', 'x1.txt', 'x2.txt', 'x3.txt', 'x4.txt'];
for (const n of mainFiles) writeFileSync(join(sy, 'main', n), first(n));
writeFileSync(join(sy, 'main', 'dir', 'd.txt'), first('d.txt'));
for (let i = 1; i <= 12; i++) writeFileSync(join(sy, 'mass', `m${i}.txt`), `m${i}\n`);
writeFileSync(join(sy, 'mass', 'keep.txt'), 'keep\n');
const BIG = 800;
for (let i = 1; i <= BIG; i++) writeFileSync(join(sy, 'big', `b${i}.txt`), `big file ${i}\n`);
for (const s of ['main', 'mass', 'big'])
    await check('for the sync checks', {
        method: 'POST', path: '/api/v1/shares', json: { server: 'sy', share: s, remote: remote(`sy/${s}`), cachingMode: 'auto' },
        expect: { status: 201 },
    });

// POST /sync
const s1 = await check('', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'] }, expect: { status: 202, op: 'syncStart' },
    verify: (r, d) => [...jobLocation(r, d), ...want(d.kind === 'sync' && d.createdBy === 'admin', JSON.stringify(d))],
});
const job1 = s1?.doc?.id ?? 0;
await jobEnded(job1);
await check('a finished sync', {
    path: `/api/v1/jobs/${job1}`, expect: { status: 200, op: 'jobsGet' },
    verify: (r, d) => want(d.state === 'succeeded' && d.endedAt !== null && d.results.some((i) =>
        i.path === '//sy/main/dir/d.txt' && i.operation === 'createClientCopy' && i.syncState === 'NoClientCopy_FileOnServer'),
    JSON.stringify(d).slice(0, 400)),
});
await check('a finished sync', { method: 'HEAD', path: `/api/v1/jobs/${job1}`, expect: { status: 200 } });
await check('wait, every option', {
    method: 'POST', path: '/api/v1/sync',
    json: {
        paths: ['//sy/main', '//sy/mass'], in: true, out: true, fillSparse: true, pinNewFiles: false,
        skipSuspended: false, noNewFilesOut: false, conflict: 'ask', wait: true,
    },
    expect: { status: 200 },
    verify: (r, d) => [
        ...want(r.headers.location === undefined, `Location ${r.headers.location} on a 200`),
        ...want(d.state === 'succeeded' && d.results.length > 0 && d.results.every((i) => i.result === 'ok') &&
            d.results.some((i) => i.path === '//sy/main/c1.txt' && i.operation === 'fill'), JSON.stringify(d).slice(0, 400)),
    ],
});
await check('wait, out only, a file', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main/c1.txt'], in: false, conflict: 'abort', wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.state === 'succeeded', JSON.stringify(d).slice(0, 300)),
});
await check('user token, wait', {
    method: 'POST', path: '/api/v1/sync', token: 'user', json: { paths: ['//sy/main/dir'], wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.createdBy === 'bob' && d.state === 'succeeded', JSON.stringify(d).slice(0, 300)),
});
await check('no paths', { method: 'POST', path: '/api/v1/sync', json: {}, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('empty paths', {
    method: 'POST', path: '/api/v1/sync', json: { paths: [] }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('paths not an array', {
    method: 'POST', path: '/api/v1/sync', json: { paths: '//sy/main' }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('a path not a string', {
    method: 'POST', path: '/api/v1/sync', json: { paths: [7] }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('257 paths', {
    method: 'POST', path: '/api/v1/sync', json: { paths: Array(257).fill('//sy/main') },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('a server', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('not a UNC path', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['sy/main'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('dot-dot segment', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main/../x'] },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: '/api/v1/sync', json: { paths: [`//${longPath}`] },
    expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
await check('not cached', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main', '//sy/main/nothere'] }, expect: { status: 404, code: 'not-found' },
});
await check('no such share', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/nosuch'] }, expect: { status: 404, code: 'not-found' },
});
await check('neither in nor out', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'], in: false, out: false },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown policy', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'], conflict: 'sometimes' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('not a boolean', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'], wait: 'yes' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'], recursive: true },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/sync', json: '{"paths": [', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'] }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/sync', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// Jobs
await check('', {
    path: '/api/v1/jobs', expect: { status: 200, op: 'jobsList' },
    verify: (r, d) => want(d.jobs.some((j) => j.id === job1) && d.jobs.every((j, i) => i === 0 || d.jobs[i - 1].id > j.id),
        `ids ${d.jobs.map((j) => j.id)}`),
});
await check('', { method: 'HEAD', path: '/api/v1/jobs', expect: { status: 200 } });
await check('user token', { path: '/api/v1/jobs', token: 'user', expect: { status: 200 } });
await check('a page', {
    path: `/api/v1/jobs?before=${job1 + 1}&limit=1`, expect: { status: 200 },
    verify: (r, d) => want(d.jobs.length === 1 && d.jobs[0].id === job1, `ids ${d.jobs.map((j) => j.id)}`),
});
await check('before the first', {
    path: '/api/v1/jobs?before=1&limit=1000', expect: { status: 200 }, verify: (r, d) => want(d.jobs.length === 0, `${d.jobs.length} jobs`),
});
await check('from the newest', { path: '/api/v1/jobs?before=0', expect: { status: 200 } });
await check('limit 0', { path: '/api/v1/jobs?limit=0', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 1001', { path: '/api/v1/jobs?limit=1001', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit abc', { path: '/api/v1/jobs?limit=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('before -1', { path: '/api/v1/jobs?before=-1', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('before 1.5', { path: '/api/v1/jobs?before=1.5', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('', { path: '/api/v1/jobs/999999', expect: { status: 404, code: 'not-found' } });
await check('id 0', { path: '/api/v1/jobs/0', expect: { status: 404, code: 'not-found' } });
await check('id not a number', { path: '/api/v1/jobs/abc', expect: { status: 404, code: 'not-found', specRejects: true } });

// Abort: a sync that fetches BIG files runs for a while; the abort stops it between items.
const sb = await check('a long sync', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/big'], fillSparse: true }, expect: { status: 202 },
    verify: jobLocation,
});
const bigJob = sb?.doc?.id ?? 0;
await check('while it runs', {
    method: 'DELETE', path: `/api/v1/jobs/${bigJob}`, expect: { status: 202, op: 'jobsAbort' },
    verify: (r, d) => want(d.id === bigJob && ['queued', 'running'].includes(d.state), `state ${d.state}`),
});
await jobEnded(bigJob);
await check('aborted', {
    path: `/api/v1/jobs/${bigJob}`, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'aborted' && d.error?.code === 'aborted' && d.results.length < BIG,
        `state ${d.state}, error ${JSON.stringify(d.error)}, ${d.results.length} results`),
});
await check('already ended', { method: 'DELETE', path: `/api/v1/jobs/${bigJob}`, expect: { status: 409, code: 'conflict' } });
await check('already ended', { method: 'DELETE', path: `/api/v1/jobs/${job1}`, expect: { status: 409, code: 'conflict' } });
await check('', { method: 'DELETE', path: '/api/v1/jobs/999999', expect: { status: 404, code: 'not-found' } });
await check('id not a number', { method: 'DELETE', path: '/api/v1/jobs/x1', expect: { status: 404, code: 'not-found', specRejects: true } });

// Cache rename: the cache only, the server keeps its names.
await check('', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/r1-moved.txt' },
    expect: { status: 200, op: 'cacheRename' },
    verify: (r, d) => [
        ...want(d.path === '//sy/main/r1-moved.txt' && d.type === 'file' && d.parent === '//sy/main', JSON.stringify(d).slice(0, 200)),
        ...want(onServer('main/r1.txt') === first('r1.txt') && onServer('main/r1-moved.txt') === undefined, 'the server changed'),
    ],
});
await check('moved', { path: '/api/v1/items/sy/main/r1.txt', expect: { status: 404, code: 'not-found' } });
await check('onto a cached item', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1-moved.txt', to: '//sy/main/r2.txt' },
    expect: { status: 409, code: 'already-exists' },
});
await check('replace', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1-moved.txt', to: '//sy/main/r2.txt', replace: true },
    expect: { status: 200 }, verify: (r, d) => want(d.path === '//sy/main/r2.txt', d.path),
});
await check('user token, back', {
    method: 'POST', path: '/api/v1/cache/rename', token: 'user', json: { from: '//sy/main/r2.txt', to: '//sy/main/r1.txt', replace: false },
    expect: { status: 200 }, verify: (r, d) => want(d.path === '//sy/main/r1.txt', d.path),
});
await check('not cached', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r2.txt', to: '//sy/main/r3.txt' },
    expect: { status: 404, code: 'not-found' },
});
await check('parent missing', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/nodir/r1.txt' },
    expect: { status: 409, code: 'parent-missing' },
});
await check('another share', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/mass/r1.txt' },
    expect: { status: 400, code: 'invalid-field' },
});
await check('below itself', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/dir', to: '//sy/main/dir/inner' },
    expect: { status: 400, code: 'invalid-field' },
});
await check('a share root', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main', to: '//sy/main2' },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('not a UNC path', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: 'r9.txt' },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: `//${longPath}` },
    expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
await check('no to', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('not a boolean', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/r9.txt', replace: 'no' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/r9.txt', force: true },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/cache/rename', json: '{"from" "x"}', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/r9.txt' },
    headers: { 'Content-Type': 'text/plain' }, expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/cache/rename', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// Cache delete: the cache only, the server keeps the files.
const d1 = await check('', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/x1.txt'] }, expect: { status: 202, op: 'cacheDelete' },
    verify: (r, d) => [...jobLocation(r, d), ...want(d.kind === 'delete' && d.createdBy === 'admin', JSON.stringify(d))],
});
await jobEnded(d1?.doc?.id ?? 0);
await check('removed from the cache', { path: '/api/v1/items/sy/main/x1.txt', expect: { status: 404, code: 'not-found' } });
await check('kept on the server', {
    path: '/api/v1/files/sy/main/x1.txt', expect: { status: 200 }, verify: (r) => want(r.body.toString() === first('x1.txt'), 'wrong bytes'),
});
await check('wait, a file and a directory', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/x2.txt', '//sy/main/dir'], wait: true, allowDirty: false },
    expect: { status: 200 },
    verify: (r, d) => want(d.state === 'succeeded' && d.results.length === 2 && d.results.every((i) =>
        i.result === 'ok' && i.operation === 'deleteClientCopy' && i.syncState === null), JSON.stringify(d).slice(0, 400)),
});
await check('user token, for itself', {
    method: 'POST', path: '/api/v1/cache/delete', token: 'user', json: { paths: ['//sy/main/x3.txt'], user: 'bob', wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.state === 'succeeded' && d.createdBy === 'bob', JSON.stringify(d).slice(0, 300)),
});
await check('user token, for another user', {
    method: 'POST', path: '/api/v1/cache/delete', token: 'user', json: { paths: ['//sy/main/x4.txt'], user: 'admin' },
    expect: { status: 403, code: 'forbidden' },
});
await check('admin, for another user: createdBy is the caller', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/x4.txt'], user: 'bob', wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.state === 'succeeded' && d.createdBy === 'admin', JSON.stringify(d).slice(0, 300)),
});
await check('not cached', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/c1.txt', '//sy/main/x2.txt'] },
    expect: { status: 404, code: 'not-found' },
});
await check('nothing queued for a refused request', {
    path: '/api/v1/items/sy/main/c1.txt', expect: { status: 200 },
});
await check('a share root', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('a server', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('dot segment', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/./c1.txt'] },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: [`//${longPath}`] },
    expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
await check('empty paths', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: [] }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('1025 paths', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: Array(1025).fill('//sy/main/c1.txt') },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('a path not a string', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: [null] }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('not a boolean', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/c1.txt'], allowDirty: 1 },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('user not a string', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/c1.txt'], user: 7 },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/c1.txt'], recursive: true },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/cache/delete', json: '{"paths":', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/c1.txt'] }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/cache/delete', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// Offline: changes made in the cache while the server changes the same files.
await check('for the conflicts', {
    method: 'PUT', path: '/api/v1/connection/sy/main', json: { state: 'offline' }, expect: { status: 200 },
});
await check('an offline share: the job fails', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/main'], wait: true }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'failed' && d.error?.code === 'share-unavailable' && d.results.length === 0,
        JSON.stringify(d).slice(0, 400)),
});
await check('dirty', { method: 'PUT', path: '/api/v1/files/sy/main/dirty.txt', raw: 'offline only\n', expect: { status: 201 } });
await check('dirty', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/dirty.txt'] }, expect: { status: 409, code: 'conflict' },
});
await check('replace a dirty item', {
    method: 'POST', path: '/api/v1/cache/rename', json: { from: '//sy/main/r1.txt', to: '//sy/main/dirty.txt', replace: true },
    expect: { status: 409, code: 'conflict' },
});
await check('dirty, allowDirty', {
    method: 'POST', path: '/api/v1/cache/delete', json: { paths: ['//sy/main/dirty.txt'], allowDirty: true, wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.state === 'succeeded' && d.results[0]?.result === 'ok', JSON.stringify(d).slice(0, 300)),
});
const local = (n) => `${n} changed offline\n`;
const theirs = (n) => `${n} changed on the server meanwhile, longer\n`;
for (const n of ['c1.txt', 'c2.txt', 'c3.txt', 'c4.txt'])
    await check('changed offline', { method: 'PUT', path: `/api/v1/files/sy/main/${n}`, raw: local(n), expect: { status: 200 } });
await check('deleted offline', { method: 'DELETE', path: '/api/v1/files/sy/main/gone.txt', expect: { status: 200 } });
await sleep(20);
for (const n of ['c1.txt', 'c2.txt', 'c3.txt', 'c4.txt', 'gone.txt']) writeFileSync(join(sy, 'main', n), theirs(n));
await check('back online: a background sync records the conflicts', {
    method: 'PUT', path: '/api/v1/connection/sy/main', json: { state: 'online' }, expect: { status: 200 },
});
await until('the background sync to record 5 conflicts', async () =>
    (await raw('GET', '/api/v1/conflicts?under=//sy/main')).doc?.conflicts?.length >= 5);

// Conflicts
const cl = await check('', {
    path: '/api/v1/conflicts?under=//sy/main', expect: { status: 200, op: 'conflictsList' },
    verify: (r, d) => {
        const st = Object.fromEntries(d.conflicts.map((c) => [c.path.split('/').pop(), c.syncState]));
        return [
            ...want(d.conflicts.length === 5 && d.conflicts.every((c) => c.kind === 'item'), JSON.stringify(d).slice(0, 400)),
            ...want(['c1.txt', 'c2.txt', 'c3.txt', 'c4.txt'].every((n) => st[n] === 'FileChangedOnClient_ChangedOnServer') &&
                st['gone.txt'] === 'DeletedOnClient_FileChangedOnServer', JSON.stringify(st)),
            ...want(d.conflicts.every((c, i) => i === 0 || d.conflicts[i - 1].path < c.path), 'not in path order'),
        ];
    },
});
const cid = (n) => cl?.doc?.conflicts?.find((c) => c.path === `//sy/main/${n}`)?.id ?? 999990;
await check('all', {
    path: '/api/v1/conflicts', expect: { status: 200 }, verify: (r, d) => want(d.conflicts.length >= 5, `${d.conflicts.length}`),
});
await check('', { method: 'HEAD', path: '/api/v1/conflicts', expect: { status: 200 } });
await check('user token', { path: '/api/v1/conflicts?under=//sy', token: 'user', expect: { status: 200 } });
await check('at a file', {
    path: '/api/v1/conflicts?under=//sy/main/c1.txt', expect: { status: 200 },
    verify: (r, d) => want(d.conflicts.length === 1 && d.conflicts[0].id === cid('c1.txt'), JSON.stringify(d).slice(0, 200)),
});
await check('a path with none', {
    path: '/api/v1/conflicts?under=//sy/nothere', expect: { status: 200 }, verify: (r, d) => want(d.conflicts.length === 0, 'not empty'),
});
await check('under not a path', { path: '/api/v1/conflicts?under=sy', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('under a dot-dot', {
    path: '/api/v1/conflicts?under=//sy/%2E%2E', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('under over 4096 bytes', {
    path: `/api/v1/conflicts?under=//${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

const resolve = (id) => `/api/v1/conflicts/${id}/resolve`;
await check('no resolution', { method: 'POST', path: resolve(cid('c1.txt')), json: {}, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('unknown resolution', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepBoth' }, expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('newName without keepAll', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepLocal', newName: 'x.txt' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('newName not a name', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll', newName: 'a/b.txt' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('newName not a string', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll', newName: 5 },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('unknown field', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll', why: 'x' },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: resolve(cid('c1.txt')), json: '{"resolution":}', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll' }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: resolve(cid('c1.txt')), declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});
await check('', { method: 'POST', path: resolve(999999), json: { resolution: 'keepAll' }, expect: { status: 404, code: 'not-found' } });
await check('id not a number', {
    method: 'POST', path: resolve('c1'), json: { resolution: 'keepAll' }, expect: { status: 404, code: 'not-found', specRejects: true },
});
await check('confirmDelete on an item record', {
    method: 'POST', path: resolve(cid('gone.txt')), json: { resolution: 'confirmDelete' }, expect: { status: 409, code: 'conflict' },
});
await check('keepAll with no local copy to keep', {
    method: 'POST', path: resolve(cid('gone.txt')), json: { resolution: 'keepAll' }, expect: { status: 409, code: 'conflict' },
});
await check('the record stays', {
    path: '/api/v1/conflicts?under=//sy/main/gone.txt', expect: { status: 200 },
    verify: (r, d) => want(d.conflicts.length === 1, `${d.conflicts.length} records`),
});
await check('keepAll, newName', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll', newName: 'c1-mine.txt' },
    expect: { status: 200, op: 'conflictsResolve' },
    verify: (r, d) => [
        ...want(d.resolved === true && d.job?.state === 'succeeded' && d.job.results.some((i) => i.operation === 'keepAll'),
            JSON.stringify(d).slice(0, 400)),
        ...want(onServer('main/c1-mine.txt') === local('c1.txt') && onServer('main/c1.txt') === theirs('c1.txt'),
            `server: c1-mine.txt ${JSON.stringify(onServer('main/c1-mine.txt'))}, c1.txt ${JSON.stringify(onServer('main/c1.txt'))}`),
    ],
});
await check('resolved: the record is gone', {
    method: 'POST', path: resolve(cid('c1.txt')), json: { resolution: 'keepAll' }, expect: { status: 404, code: 'not-found' },
});
await check('keepAll, a generated name', {
    method: 'POST', path: resolve(cid('c2.txt')), json: { resolution: 'keepAll' }, expect: { status: 200 },
    verify: (r, d) => {
        const kept = readdirSync(join(sy, 'main')).filter((n) => /^c2 \(conflict \d{4}-\d{2}-\d{2} \d{6}\)\.txt$/.test(n));
        return [
            ...want(d.resolved === true && d.job?.state === 'succeeded', JSON.stringify(d).slice(0, 300)),
            ...want(kept.length === 1 && onServer(`main/${kept[0]}`) === local('c2.txt') && onServer('main/c2.txt') === theirs('c2.txt'),
                `server: ${kept.join()}`),
        ];
    },
});
// keepLocal: the client's version goes to the server. keepRemote: the server's replaces the
// client's change in the cache. Either way the item is in sync afterwards.
await check('keepLocal', {
    method: 'POST', path: resolve(cid('c3.txt')), json: { resolution: 'keepLocal' }, expect: { status: 200 },
    verify: (r, d) => [
        ...want(d.resolved === true && d.job?.state === 'succeeded' &&
            d.job.results.some((i) => i.path === '//sy/main/c3.txt' && i.operation === 'syncToServer' && i.result === 'ok'),
        JSON.stringify(d).slice(0, 400)),
        ...want(onServer('main/c3.txt') === local('c3.txt'), `server has ${JSON.stringify(onServer('main/c3.txt'))}`),
    ],
});
await check('keepRemote', {
    method: 'POST', path: resolve(cid('c4.txt')), json: { resolution: 'keepRemote' }, expect: { status: 200 },
    verify: (r, d) => want(d.resolved === true && d.job?.state === 'succeeded', JSON.stringify(d).slice(0, 400)),
});
await check('after keepRemote the cache holds the server\'s version', {
    path: '/api/v1/items/sy/main/c4.txt', expect: { status: 200 },
    verify: (r, d) => want(!d.change.dirty && d.local.size === Buffer.byteLength(theirs('c4.txt')),
        `change ${JSON.stringify(d.change)}, local size ${d.local.size}`),
});
await check('after keepRemote the cache holds the server\'s version', {
    path: '/api/v1/files/sy/main/c4.txt', expect: { status: 200 },
    verify: (r) => want(r.body.toString() === theirs('c4.txt'), `read ${JSON.stringify(r.body.toString())}`),
});

// A mass deletion: the sync deletes nothing and waits for a person.
for (let i = 1; i <= 12; i++) rmSync(join(sy, 'mass', `m${i}.txt`));
await check('12 of 13 files gone on the server', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/mass'], wait: true }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'failed' && d.error?.code === 'conflict' && d.results.length === 0, JSON.stringify(d).slice(0, 400)),
});
const md = await check('a massDelete record', {
    path: '/api/v1/conflicts?under=//sy/mass', expect: { status: 200 },
    verify: (r, d) => want(d.conflicts.length === 1 && d.conflicts[0].kind === 'massDelete' && d.conflicts[0].path === '//sy/mass' &&
        d.conflicts[0].deletions === 12, JSON.stringify(d).slice(0, 400)),
});
const massId = md?.doc?.conflicts?.[0]?.id ?? 999991;
await check('an item resolution on a massDelete record', {
    method: 'POST', path: resolve(massId), json: { resolution: 'keepLatest' }, expect: { status: 409, code: 'conflict' },
});
await check('discard', {
    method: 'POST', path: resolve(massId), json: { resolution: 'discard' }, expect: { status: 200 },
    verify: (r, d) => want(d.resolved === true && d.job === null, JSON.stringify(d)),
});
await check('discarded: nothing deleted', {
    path: '/api/v1/items?under=//sy/mass', expect: { status: 200 }, verify: (r, d) => want(d.items.length === 13, `${d.items.length} items`),
});
await check('again', {
    method: 'POST', path: '/api/v1/sync', json: { paths: ['//sy/mass'], wait: true }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'failed' && d.error?.code === 'conflict', JSON.stringify(d).slice(0, 300)),
});
const md2 = await raw('GET', '/api/v1/conflicts?under=//sy/mass');
await check('confirmDelete', {
    method: 'POST', path: resolve(md2.doc?.conflicts?.[0]?.id ?? 999992), json: { resolution: 'confirmDelete' }, expect: { status: 200 },
    verify: (r, d) => want(d.resolved === true && d.job?.state === 'succeeded' && d.job.results.length === 12 &&
        d.job.results.every((i) => i.operation === 'deleteClientCopy' && i.result === 'ok'), JSON.stringify(d).slice(0, 400)),
});
await check('confirmed: deleted', {
    path: '/api/v1/items?under=//sy/mass', expect: { status: 200 },
    verify: (r, d) => want(d.items.map((i) => i.path).join() === '//sy/mass/keep.txt', `items ${d.items.map((i) => i.path)}`),
});
await check('a background sync ran', {
    path: '/api/v1/jobs?limit=1000', expect: { status: 200 },
    verify: (r, d) => want(d.jobs.some((j) => j.createdBy === 'background' && j.kind === 'sync'), 'no background job'),
});

// Pins, suspended trees and IsPathCacheable, on a share of their own, //pn/main
// (manual caching: only what is pinned is kept).
const pnDir = join(shares, 'pn');
mkdirSync(join(pnDir, 'dir', 'sub'), { recursive: true });
writeFileSync(join(pnDir, 'a.txt'), 'pin me\n');
writeFileSync(join(pnDir, 'ghost.txt'), 'a ghost until filled\n');
writeFileSync(join(pnDir, 'dir', 'b.txt'), 'bee\n');
writeFileSync(join(pnDir, 'dir', 'sub', 'c.txt'), 'sea\n');
const BIG_PIN = 256 * 1024;
writeFileSync(join(pnDir, 'big.bin'), Buffer.alloc(BIG_PIN, 7));
await check('for the pin checks', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'pn', share: 'main', remote: remote('pn'), cachingMode: 'manual' },
    expect: { status: 201 },
});
const item = async (p, token = 'admin') => (await raw('GET', `/api/v1/items/${p.slice(2)}`, undefined, token)).doc;
const pinOf = async (p, token) => (await item(p, token))?.pin ?? {};
const okResults = (d, paths, op) => {
    const got = d.results.map((i) => i.path).sort();
    return [
        ...want(got.join() === [...paths].sort().join(), `results for ${got.join(', ')}, want ${[...paths].sort().join(', ')}`),
        ...want(d.results.every((i) => i.operation === op && i.result === 'ok' && i.code === 'ok' && i.syncState === null),
            JSON.stringify(d.results).slice(0, 300)),
        ...want(!ENDED.includes(d.state) || (d.progress.itemsDone === d.progress.itemsTotal &&
            d.progress.bytesDone <= d.progress.bytesTotal), `progress ${JSON.stringify(d.progress)}`),
    ];
};

// POST /pins
const pj = await check('a file, for the caller', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/a.txt'] }, expect: { status: 202, op: 'pinsCreate' },
    verify: (r, d) => [...jobLocation(r, d), ...want(d.kind === 'pin' && d.createdBy === 'admin', JSON.stringify(d))],
});
await jobEnded(pj?.doc?.id ?? 0);
await check('the pin job', {
    path: `/api/v1/jobs/${pj?.doc?.id ?? 0}`, expect: { status: 200 },
    verify: (r, d) => [...want(d.state === 'succeeded', d.state), ...okResults(d, ['//pn/main/a.txt'], 'fill')],
});
await check('pinned and filled', {
    path: '/api/v1/items/pn/main/a.txt', expect: { status: 200 },
    verify: (r, d) => want(d.pin.pinned && d.pin.forUser && !d.pin.forComputer && !d.ghosted && d.local.size === 7,
        `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});
await check('another user sees it pinned, not for itself', {
    path: '/api/v1/items/pn/main/a.txt', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.pin.pinned && !d.pin.forUser, JSON.stringify(d.pin)),
});
await check('deep, for the computer, wait', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/dir'], deep: true, scope: 'computer', fill: true, wait: true },
    expect: { status: 200 },
    verify: (r, d) => [
        ...want(r.headers.location === undefined, `Location ${r.headers.location} on a 200`),
        ...want(d.kind === 'pin' && d.state === 'succeeded', JSON.stringify(d).slice(0, 200)),
        ...okResults(d, ['//pn/main/dir', '//pn/main/dir/b.txt', '//pn/main/dir/sub', '//pn/main/dir/sub/c.txt'], 'fill'),
    ],
});
await check('pinned deep', {
    path: '/api/v1/items/pn/main/dir/sub/c.txt', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.pin.pinned && d.pin.forComputer && !d.pin.forUser && !d.ghosted, JSON.stringify(d.pin)),
});
await check('user token, for itself', {
    method: 'POST', path: '/api/v1/pins', token: 'user', json: { paths: ['//pn/main/dir/b.txt'], scope: 'user', wait: true },
    expect: { status: 200 }, verify: (r, d) => want(d.state === 'succeeded' && d.createdBy === 'bob', JSON.stringify(d).slice(0, 200)),
});
await check('pinned for bob', {
    path: '/api/v1/items/pn/main/dir/b.txt', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.pin.forUser && d.pin.forComputer, JSON.stringify(d.pin)),
});
await check('user token, a policy pin', {
    method: 'POST', path: '/api/v1/pins', token: 'user', json: { paths: ['//pn/main/ghost.txt'], scope: 'policy' },
    expect: { status: 403, code: 'forbidden' },
});
await check('not pinned by the refused request', {
    path: '/api/v1/items/pn/main/ghost.txt', expect: { status: 200 },
    verify: (r, d) => want(!d.pin.pinned && d.ghosted, `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});
await check('a policy pin without fill', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/ghost.txt'], scope: 'policy', fill: false, wait: true },
    expect: { status: 200 }, verify: (r, d) => okResults(d, ['//pn/main/ghost.txt'], 'fill'),
});
await check('pinned by policy, still a ghost', {
    path: '/api/v1/items/pn/main/ghost.txt', expect: { status: 200 },
    verify: (r, d) => want(d.pin.byPolicy && d.ghosted, `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});
await check('a share root, shallow, for redirection', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main'], scope: 'redirection', wait: true },
    expect: { status: 200 }, verify: (r, d) => okResults(d, ['//pn/main'], 'fill'),
});
await check('pinned for redirection, inherited by new children', {
    path: '/api/v1/items/pn/main', expect: { status: 200 },
    verify: (r, d) => want(d.pin.forRedirection && d.type === 'share', JSON.stringify(d.pin)),
});
await check('a share that allows no caching', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/a.txt', '//srv2/nocache'] },
    expect: { status: 409, code: 'conflict' },
});
await check('a file in a share that allows no caching', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//srv2/nocache/x.txt'], wait: true },
    expect: { status: 409, code: 'conflict' },
});
await check('', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/nothere.txt'] }, expect: { status: 404, code: 'not-found' },
});
await check('', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/nosuch/x.txt'] }, expect: { status: 404, code: 'no-such-share' },
});
await check('a server', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('not a UNC path', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['pn/main/a.txt'] }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('dot-dot segment', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/../a.txt'] },
    expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: '/api/v1/pins', json: { paths: [`//${longPath}`] }, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
for (const [name, json] of [
    ['no paths', {}],
    ['empty paths', { paths: [] }],
    ['1025 paths', { paths: Array(1025).fill('//pn/main/a.txt') }],
    ['paths not an array', { paths: '//pn/main/a.txt' }],
    ['a path not a string', { paths: [7] }],
    ['an unknown scope', { paths: ['//pn/main/a.txt'], scope: 'everyone' }],
    ['scope not a string', { paths: ['//pn/main/a.txt'], scope: 1 }],
    ['deep not a boolean', { paths: ['//pn/main/a.txt'], deep: 'yes' }],
    ['fill not a boolean', { paths: ['//pn/main/a.txt'], fill: 1 }],
    ['wait not a boolean', { paths: ['//pn/main/a.txt'], wait: null }],
])
    await check(name, { method: 'POST', path: '/api/v1/pins', json, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('unknown field', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/a.txt'], recursive: true },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/pins', json: '{"paths": [', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/a.txt'] }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/pins', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// Filling fails offline; the job ends failed and says which item failed and why.
await check('offline, for a fill', {
    method: 'PUT', path: '/api/v1/connection/pn/main', json: { state: 'offline' }, expect: { status: 200 },
});
await check('offline: a ghost cannot be filled', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/ghost.txt', '//pn/main/a.txt'], wait: true },
    expect: { status: 200 },
    verify: (r, d) => {
        const g = d.results.find((i) => i.path === '//pn/main/ghost.txt');
        const a = d.results.find((i) => i.path === '//pn/main/a.txt');
        return want(d.state === 'failed' && d.error?.code === 'conflict' && g?.result === 'failed' &&
            g.code === 'not-available-offline' && g.operation === 'fill' && a?.result === 'ok', JSON.stringify(d).slice(0, 500));
    },
});
await check('offline: not cached', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/dir/unknown.txt'] }, expect: { status: 404, code: 'not-found' },
});
await check('back online', {
    method: 'PUT', path: '/api/v1/connection/pn/main', json: { state: 'online' }, expect: { status: 200 },
});

// A pinned file that does not fit in the cache's limits.
const cacheNow = (await raw('GET', '/api/v1/cache')).doc?.space;
await check('limit the cache', {
    method: 'PATCH', path: '/api/v1/cache', json: { limit: (cacheNow?.used ?? 0) + BIG_PIN / 4 }, expect: { status: 200 },
});
await check('a file over the limit', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/big.bin'], wait: true }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'failed' && d.error?.code === 'cache-full' && d.results.length === 1 &&
        d.results[0].result === 'failed' && d.results[0].code === 'cache-full' && d.results[0].operation === 'fill',
    JSON.stringify(d).slice(0, 500)),
});
await check('pinned, not filled', {
    path: '/api/v1/items/pn/main/big.bin', expect: { status: 200 },
    verify: (r, d) => want(d.pin.forUser && d.ghosted, `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});
await check('the limits as they were', {
    method: 'PATCH', path: '/api/v1/cache', json: { limit: cacheNow?.limit ?? 1e9, unpinnedLimit: cacheNow?.unpinnedLimit ?? 1e9 },
    expect: { status: 200 },
});
await check('room again', {
    method: 'POST', path: '/api/v1/pins', json: { paths: ['//pn/main/big.bin'], wait: true }, expect: { status: 200 },
    verify: (r, d) => [...want(d.state === 'succeeded', JSON.stringify(d).slice(0, 300)), ...okResults(d, ['//pn/main/big.bin'], 'fill')],
});
await check('pinned and filled', {
    path: '/api/v1/items/pn/main/big.bin', expect: { status: 200 },
    verify: (r, d) => want(d.pin.forUser && !d.ghosted && d.local.size === BIG_PIN, `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});

// DELETE /pins
await check('default: wait', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/a.txt', expect: { status: 200, op: 'pinsDelete' },
    verify: (r, d) => [
        ...want(d.kind === 'unpin' && d.createdBy === 'admin' && d.state === 'succeeded', JSON.stringify(d).slice(0, 200)),
        ...okResults(d, ['//pn/main/a.txt'], 'none'),
    ],
});
await check('unpinned', {
    path: '/api/v1/items/pn/main/a.txt', expect: { status: 200 },
    verify: (r, d) => want(!d.pin.pinned && !d.pin.forUser && !d.ghosted, `pin ${JSON.stringify(d.pin)}, ghosted ${d.ghosted}`),
});
const uj = await check('deep, for the computer, at once', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/dir&deep=true&scope=computer&wait=false', expect: { status: 202 },
    verify: (r, d) => [...jobLocation(r, d), ...want(d.kind === 'unpin', d.kind)],
});
await jobEnded(uj?.doc?.id ?? 0);
await check('the unpin job', {
    path: `/api/v1/jobs/${uj?.doc?.id ?? 0}`, expect: { status: 200 },
    verify: (r, d) => [...want(d.state === 'succeeded', d.state),
        ...okResults(d, ['//pn/main/dir', '//pn/main/dir/b.txt', '//pn/main/dir/sub', '//pn/main/dir/sub/c.txt'], 'none')],
});
await check('unpinned deep', {
    path: '/api/v1/items/pn/main/dir/sub/c.txt', expect: { status: 200 },
    verify: (r, d) => want(!d.pin.pinned, JSON.stringify(d.pin)),
});
await check('bob\'s own pin stays', {
    path: '/api/v1/items/pn/main/dir/b.txt', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.pin.forUser && !d.pin.forComputer, JSON.stringify(d.pin)),
});
await check('user token, its own', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/dir/b.txt&scope=user&deep=0&wait=1', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.createdBy === 'bob' && d.state === 'succeeded', JSON.stringify(d).slice(0, 200)),
});
await check('user token, a policy pin', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/ghost.txt&scope=policy', token: 'user', expect: { status: 403, code: 'forbidden' },
});
await check('a policy pin', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/ghost.txt&scope=policy', expect: { status: 200 },
    verify: (r, d) => okResults(d, ['//pn/main/ghost.txt'], 'none'),
});
await check('a share that allows no caching takes unpins', {
    method: 'DELETE', path: '/api/v1/pins?path=//srv2/nocache', expect: { status: 200 },
});
await check('no path', { method: 'DELETE', path: '/api/v1/pins', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('an unknown scope', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/a.txt&scope=all', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('deep=yes', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/a.txt&deep=yes', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('wait=later', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn/main/a.txt&wait=later', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('a server', {
    method: 'DELETE', path: '/api/v1/pins?path=//pn', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('not a UNC path', {
    method: 'DELETE', path: '/api/v1/pins?path=pn/main/a.txt', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('', { method: 'DELETE', path: '/api/v1/pins?path=//pn/main/nothere.txt', expect: { status: 404, code: 'not-found' } });
await check('', { method: 'DELETE', path: '/api/v1/pins?path=//pn/nosuch/x.txt', expect: { status: 404, code: 'no-such-share' } });
await check('path over 4096 bytes', {
    method: 'DELETE', path: `/api/v1/pins?path=//${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

// POST /suspend
await check('a directory', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main/dir', suspend: true }, expect: { status: 200, op: 'suspendSet' },
    verify: (r, d) => want(d.path === '//pn/main/dir' && d.suspend.suspended && d.suspend.root, JSON.stringify(d.suspend)),
});
await check('suspended below the root', {
    path: '/api/v1/items/pn/main/dir/sub/c.txt', expect: { status: 200 },
    verify: (r, d) => want(d.suspend.suspended && !d.suspend.root, JSON.stringify(d.suspend)),
});
await check('suspended items', {
    path: '/api/v1/items?under=//pn/main&depth=all&flags=suspended', expect: { status: 200 },
    verify: (r, d) => want(d.items.map((i) => i.path).join() === '//pn/main/dir,//pn/main/dir/b.txt,//pn/main/dir/sub,//pn/main/dir/sub/c.txt',
        `items ${d.items.map((i) => i.path)}`),
});
await check('released', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main/dir', suspend: false }, expect: { status: 200 },
    verify: (r, d) => want(!d.suspend.suspended && !d.suspend.root, JSON.stringify(d.suspend)),
});
await check('released below the root', {
    path: '/api/v1/items/pn/main/dir/sub/c.txt', expect: { status: 200 },
    verify: (r, d) => want(!d.suspend.suspended, JSON.stringify(d.suspend)),
});
await check('user token, a file', {
    method: 'POST', path: '/api/v1/suspend', token: 'user', json: { path: '//pn/main/a.txt', suspend: true }, expect: { status: 200 },
    verify: (r, d) => want(d.suspend.suspended && !d.suspend.root && d.type === 'file', JSON.stringify(d.suspend)),
});
await check('user token, a file released', {
    method: 'POST', path: '/api/v1/suspend', token: 'user', json: { path: '//pn/main/a.txt', suspend: false }, expect: { status: 200 },
    verify: (r, d) => want(!d.suspend.suspended, JSON.stringify(d.suspend)),
});
await check('a share root', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main', suspend: true }, expect: { status: 200 },
    verify: (r, d) => want(d.type === 'share' && d.suspend.suspended && d.suspend.root, JSON.stringify(d.suspend)),
});
await check('a share root released', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main', suspend: false }, expect: { status: 200 },
    verify: (r, d) => want(!d.suspend.suspended && !d.suspend.root, JSON.stringify(d.suspend)),
});
await check('a server', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn', suspend: true }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('not a UNC path', {
    method: 'POST', path: '/api/v1/suspend', json: { path: 'pn/main', suspend: true }, expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    method: 'POST', path: '/api/v1/suspend', json: { path: `//${longPath}`, suspend: true },
    expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
await check('not cached', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main/nothere', suspend: true }, expect: { status: 404, code: 'not-found' },
});
await check('no such share', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/nosuch', suspend: true }, expect: { status: 404, code: 'not-found' },
});
for (const [name, json] of [
    ['no suspend', { path: '//pn/main/dir' }],
    ['no path', { suspend: true }],
    ['suspend not a boolean', { path: '//pn/main/dir', suspend: 'yes' }],
    ['path not a string', { path: ['//pn/main/dir'], suspend: true }],
])
    await check(name, { method: 'POST', path: '/api/v1/suspend', json, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('unknown field', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main/dir', suspend: true, deep: true },
    expect: { status: 400, code: 'unknown-field', specRejects: true },
});
await check('malformed JSON', {
    method: 'POST', path: '/api/v1/suspend', json: '{"path":', expect: { status: 400, code: 'malformed-json', specRejects: true },
});
await check('text/plain body', {
    method: 'POST', path: '/api/v1/suspend', json: { path: '//pn/main/dir', suspend: true }, headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type', specRejects: true },
});
await check('Content-Length over 1 MiB', {
    method: 'POST', path: '/api/v1/suspend', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});

// GET /cache/cacheable
await check('', {
    path: '/api/v1/cache/cacheable?path=//pn/main/a.txt', expect: { status: 200, op: 'cacheCacheable' },
    verify: (r, d) => want(d.path === '//pn/main/a.txt' && d.cacheable === true && d.cachingMode === 'manual', JSON.stringify(d)),
});
await check('', { method: 'HEAD', path: '/api/v1/cache/cacheable?path=//pn/main/a.txt', expect: { status: 200 } });
await check('a share root', {
    path: '/api/v1/cache/cacheable?path=//pn/main', expect: { status: 200 }, verify: (r, d) => want(d.cacheable === true, JSON.stringify(d)),
});
await check('an item that does not exist', {
    path: '/api/v1/cache/cacheable?path=//sy/main/not/yet.txt', expect: { status: 200 },
    verify: (r, d) => want(d.cacheable === true && d.cachingMode === 'auto', JSON.stringify(d)),
});
await check('user token, noCaching', {
    path: '/api/v1/cache/cacheable?path=//srv2/nocache/x.txt', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.cacheable === false && d.cachingMode === 'noCaching', JSON.stringify(d)),
});
await check('no path', { path: '/api/v1/cache/cacheable', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('a server', { path: '/api/v1/cache/cacheable?path=//pn', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('not a UNC path', { path: '/api/v1/cache/cacheable?path=pn/main', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('a dot-dot segment', {
    path: '/api/v1/cache/cacheable?path=//pn/main/%2E%2E/x', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('', { path: '/api/v1/cache/cacheable?path=//nosrv/x', expect: { status: 404, code: 'no-such-share' } });
await check('path over 4096 bytes', {
    path: `/api/v1/cache/cacheable?path=//${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

// The event log: every page, oldest first, validated against the spec.
const seen = [];
{
    let since = 0;
    for (let page = 1; page <= 50; page++) {
        const r = await check(page === 1 ? 'every page' : '', {
            path: `/api/v1/events/log?since=${since}&limit=1000`, expect: { status: 200, op: 'eventsLog' },
            verify: (res, d) => want(d.events.every((e, i) => e.id > (i ? d.events[i - 1].id : since)) &&
                d.next === (d.events.length ? d.events[d.events.length - 1].id : since) && d.newest >= d.next && !d.dataLost,
            `ids ${d.events[0]?.id}..${d.next} since ${since}, newest ${d.newest}, dataLost ${d.dataLost}`),
        });
        if (!r?.doc?.events?.length) break;
        seen.push(...r.doc.events);
        since = r.doc.next;
    }
    const has = (f) => seen.some(f);
    report(`the event log holds what this check did (${seen.length} events)`, [
        ...want(has((e) => e.type === 'SyncConflictRecAdded' && e.path === '//sy/main/c1.txt'), 'no SyncConflictRecAdded for //sy/main/c1.txt'),
        ...want(has((e) => e.type === 'ItemRenamed' && e.oldPath === '//sy/main/r1.txt' && e.path === '//sy/main/r1-moved.txt'),
            'no ItemRenamed from //sy/main/r1.txt'),
        ...want(has((e) => e.type === 'ItemDeletedFromCache' && e.path === '//sy/main/x1.txt'), 'no ItemDeletedFromCache for //sy/main/x1.txt'),
        ...want(has((e) => e.type === 'JobProgress' && e.jobId === bigJob && e.detail === 'aborted'), `no JobProgress 'aborted' for job ${bigJob}`),
        ...want(has((e) => e.type === 'BackgroundSyncEnd'), 'no BackgroundSyncEnd'),
        ...want(has((e) => e.type === 'ItemPinned' && e.path === '//pn/main/a.txt'), 'no ItemPinned for //pn/main/a.txt'),
        ...want(has((e) => e.type === 'ItemNotPinned' && e.path === '//pn/main/a.txt'), 'no ItemNotPinned for //pn/main/a.txt'),
        ...want(has((e) => e.type === 'CacheIsFull'), 'no CacheIsFull'),
    ]);
}
await check('', { method: 'HEAD', path: '/api/v1/events/log', expect: { status: 200 } });
await check('user token, a page', {
    path: '/api/v1/events/log?since=1&limit=2', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.events.length === 2 && d.events[0].id > 1 && d.next === d.events[1].id, JSON.stringify(d).slice(0, 300)),
});
await check('past the newest', {
    path: '/api/v1/events/log?since=99999999', expect: { status: 200 },
    verify: (r, d) => want(d.events.length === 0 && d.next === 99999999 && !d.dataLost, JSON.stringify(d)),
});
await check('since -1', { path: '/api/v1/events/log?since=-1', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('since abc', { path: '/api/v1/events/log?since=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 0', { path: '/api/v1/events/log?limit=0', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 1001', { path: '/api/v1/events/log?limit=1001', expect: { status: 400, code: 'invalid-query', specRejects: true } });

// The event stream (server-sent events) and Ping events. A stream never ends,
// so checkStream reads frames with fetch until it has what it waits for,
// then aborts; each frame's data is validated against the spec.
const streamOp = ops.find((o) => o.id === 'eventsStream');
const frameSchema = streamOp?.op.responses['200'].content['text/event-stream']['x-frame-data'];

// "id: N\nevent: T\ndata: {...}\n\n" blocks; comment lines (":...") are skipped.
function parseFrames(text) {
    const frames = [];
    for (const block of text.split('\n\n').slice(0, -1)) {
        const f = { id: undefined, event: undefined, data: undefined, raw: block };
        for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') f.id = value;
            else if (field === 'event') f.event = value;
            else if (field === 'data') f.data = f.data === undefined ? value : `${f.data}\n${value}`;
            else f.unknown = field;
        }
        frames.push(f);
    }
    return frames;
}

// What is wrong with one frame (an empty list when nothing).
function frameErrors(f, i) {
    const at = `frame ${i}`;
    const errors = [];
    if (f.unknown !== undefined) errors.push(`${at}: unknown field '${f.unknown}'`);
    if (!f.event) errors.push(`${at}: no event line`);
    let doc;
    try {
        doc = JSON.parse(f.data);
    } catch (e) {
        return [...errors, `${at}: data is not JSON: ${f.data}`];
    }
    errors.push(...schemaErrors(frameSchema, doc, `${at} data`));
    if (doc.type !== f.event) errors.push(`${at}: event '${f.event}' but data.type '${doc.type}'`);
    if (f.id !== undefined) {
        errors.push(...schemaErrors(spec.components.schemas.Event, doc, `${at} (an event)`));
        if (String(doc.id) !== f.id) errors.push(`${at}: id line ${f.id} but data.id ${doc.id}`);
    } else if (!['Ping', 'DataLost'].includes(f.event)) {
        errors.push(`${at}: a ${f.event} frame without an id line`);
    }
    f.doc = doc;
    return errors;
}

/*
 * Open a stream and read frames until done(frames) holds (or ms pass), then
 * abort. token: 'admin', 'user', 'bad' or null, sent as tokenIn says: a
 * bearer ('header'), the access_token parameter ('query') or the of_token
 * cookie ('cookie'). before(): run once the stream is open (to publish what
 * it waits for). verify(frames): more checks, returns a list of errors.
 */
async function checkStream(name, { path, token = 'admin', tokenIn = 'header', headers = {}, done, before, ms = 10000, verify }) {
    const errors = [];
    const hdrs = { Accept: 'text/event-stream', ...headers };
    let url = path;
    if (token && tokenIn === 'header') hdrs.Authorization = `Bearer ${tokens[token]}`;
    if (token && tokenIn === 'query') url += `${url.includes('?') ? '&' : '?'}access_token=${tokens[token]}`;
    if (token && tokenIn === 'cookie') hdrs.Cookie = `theme=dark; of_token=${tokens[token]}`;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    let res;
    let text = '';
    let frames = [];
    let finished = false;
    try {
        res = await fetch(new URL(url, base), { headers: hdrs, signal: ac.signal });
        if (before) await before();
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        for (;;) {
            const { value, done: end } = await reader.read();
            if (end) {
                errors.push('the stream ended');
                break;
            }
            text += dec.decode(value, { stream: true });
            frames = parseFrames(text);
            if (done(frames)) {
                finished = true;
                break;
            }
        }
    } catch (e) {
        if (!res) errors.push(`request failed: ${e.message}`);
    } finally {
        clearTimeout(timer);
        ac.abort();
    }
    if (res && !finished && !errors.length) errors.push(`not what was awaited within ${ms / 1000} s: ${text.slice(0, 300)}`);
    if (res) {
        const headersObj = Object.fromEntries([...res.headers].map(([k, v]) => [k.toLowerCase(), v]));
        if (res.status !== 200) errors.push(`status ${res.status}, want 200`);
        if (headersObj['cache-control'] !== 'no-store') errors.push(`Cache-Control is ${headersObj['cache-control']}`);
        if (headersObj['x-content-type-options'] !== 'nosniff') errors.push(`X-Content-Type-Options is ${headersObj['x-content-type-options']}`);
        if (headersObj['content-type'] !== 'text/event-stream') errors.push(`Content-Type is ${headersObj['content-type']}`);
        const cut = text.lastIndexOf('\n\n') + 2;
        errors.push(...responseErrors(streamOp, 'GET', { status: res.status, headers: headersObj, body: Buffer.from(text.slice(0, cut)) }));
        const q = path.indexOf('?');
        const u = { pathname: q < 0 ? path : path.slice(0, q), searchParams: new URL(url, base).searchParams };
        errors.push(...requestErrors(streamOp, u, hdrs, undefined, false).map((e) => `the daemon accepted what the spec refuses: ${e}`));
        frames.forEach((f, i) => errors.push(...frameErrors(f, i)));
        errors.push(...leakErrors('the stream', text));
        if (!covered.has('eventsStream')) covered.set('eventsStream', new Set());
        covered.get('eventsStream').add(res.status);
        if (verify && errors.length === 0) {
            try {
                errors.push(...(verify(frames) ?? []));
            } catch (e) {
                errors.push(`verify: ${e.message}`);
            }
        }
    }
    report(`GET ${path.length > 90 ? path.slice(0, 87) + '...' : path} -> 200 stream (${name})`, errors);
    return frames;
}

const pingFrom = (detail) => (fs) => fs.some((f) => f.event === 'Ping' && f.id !== undefined && f.data?.includes(`"detail":"${detail}"`));
const publish = (count, detail) => raw('POST', '/api/v1/events/ping', { count, detail });
const newest = async () => (await raw('GET', '/api/v1/events/log?limit=1')).doc?.newest ?? 0;
const increasing = (fs) => {
    const ids = fs.filter((f) => f.id !== undefined).map((f) => Number(f.id));
    return want(ids.every((id, i) => i === 0 || id > ids[i - 1]), `ids not increasing: ${ids.join(',')}`);
};

// Live: a published Ping arrives with an id, and a keep-alive Ping without one.
await checkStream('live, with a keep-alive Ping', {
    path: '/api/v1/events?ping=1',
    before: () => publish(2, 'contract live'),
    done: (fs) => pingFrom('contract live')(fs) && fs.some((f) => f.event === 'Ping' && f.id === undefined),
    verify: (fs) => [
        ...increasing(fs),
        ...want(fs.filter((f) => f.id !== undefined && f.event === 'Ping').length === 2, 'not both published Pings'),
        ...want(fs.find((f) => f.id === undefined).doc.lastId >= 0, 'a keep-alive Ping without lastId'),
    ],
});

// Replay from the log (what this check did to //sy), filtered, then live.
{
    const last = await newest();
    const logged = [];
    for (let since = 0; ;) {
        const r = await raw('GET', `/api/v1/events/log?since=${since}&limit=1000`);
        if (!r.doc?.events?.length) break;
        logged.push(...r.doc.events);
        since = r.doc.next;
    }
    const under = (p) => p === null || p === '//sy/main' || (p ?? '').startsWith('//sy/main/');
    const wanted = logged.filter((e) => e.type !== 'JobProgress' && e.type !== 'JobItemResult' && under(e.path));
    await checkStream('replay with since, a path and types', {
        path: '/api/v1/events?since=0&path=//sy/main&match=selfAndDescendants&exclude=JobProgress,JobItemResult',
        before: () => publish(1, 'contract replay'),
        done: pingFrom('contract replay'),
        verify: (fs) => {
            const got = fs.filter((f) => f.id !== undefined && Number(f.id) <= last).map((f) => Number(f.id));
            return [
                ...increasing(fs),
                ...want(got.join() === wanted.map((e) => e.id).join(),
                    `replayed ${got.length} events, the log has ${wanted.length} of them`),
                ...want(fs.every((f) => !f.doc || under(f.doc.path) || f.event === 'Ping'), 'an event outside //sy/main'),
            ];
        },
    });
    await checkStream('Last-Event-ID, include, user token as access_token', {
        path: '/api/v1/events?include=SyncBegin,SyncEnd&match=self', token: 'user', tokenIn: 'query',
        headers: { 'Last-Event-ID': String(Math.max(last - 50, 0)) },
        before: () => publish(1, 'contract resume'),
        done: pingFrom('contract resume'),
        verify: (fs) => [
            ...increasing(fs),
            ...want(fs.every((f) => f.id === undefined || Number(f.id) > last - 50), 'an event at or before Last-Event-ID'),
            ...want(fs.every((f) => ['SyncBegin', 'SyncEnd', 'Ping'].includes(f.event)), 'a type that was not included'),
        ],
    });
    await checkStream('of_token cookie; Last-Event-ID wins over since', {
        path: `/api/v1/events?since=0&path=//srv/docs/a.txt&match=self&ping=3600`, tokenIn: 'cookie',
        headers: { 'Last-Event-ID': String(last) },
        before: () => publish(1, 'contract cookie'),
        done: pingFrom('contract cookie'),
        verify: (fs) => want(fs.every((f) => f.id === undefined || Number(f.id) > last), 'Last-Event-ID did not win over since'),
    });
}
await check('HEAD: the head of a stream, no body', { method: 'HEAD', path: '/api/v1/events', expect: { status: 200 } });
await check('unknown access_token', { path: `/api/v1/events?access_token=${tokens.bad}`, token: null, expect: { status: 401, code: 'unauthorized', op: 'eventsStream' } });
await check('unknown of_token cookie', { path: '/api/v1/events', token: null, headers: { Cookie: `of_token=${tokens.bad}` }, expect: { status: 401, code: 'unauthorized' } });
await check('access_token is for the stream only', { path: `/api/v1/events/log?access_token=${tokens.admin}`, token: null, expect: { status: 401, code: 'unauthorized' } });
await check('unknown type', { path: '/api/v1/events?include=Nope', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown excluded type', { path: '/api/v1/events?exclude=ItemModified,Nope', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown match', { path: '/api/v1/events?path=//srv/docs&match=everything', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('ping 0', { path: '/api/v1/events?ping=0', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('ping 3601', { path: '/api/v1/events?ping=3601', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('since -1', { path: '/api/v1/events?since=-1', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('since abc', { path: '/api/v1/events?since=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('Last-Event-ID abc', { path: '/api/v1/events', headers: { 'Last-Event-ID': 'abc' }, expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('a relative path', { path: '/api/v1/events?path=srv/docs', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('a dot segment', { path: '/api/v1/events?path=//srv/docs/..', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('a path too long', { path: `/api/v1/events?path=//srv/docs/${'d'.repeat(4100)}`, expect: { status: 414, code: 'uri-too-long', specRejects: true } });

await check('', {
    method: 'POST', path: '/api/v1/events/ping', json: { count: 3, detail: 'contract' }, expect: { status: 200, op: 'eventsPing' },
    verify: (r, d) => want(d.published === 3, `published ${d.published}`),
});
await check('no body: one', { method: 'POST', path: '/api/v1/events/ping', expect: { status: 200 }, verify: (r, d) => want(d.published === 1, `published ${d.published}`) });
await check('empty object', { method: 'POST', path: '/api/v1/events/ping', json: {}, expect: { status: 200 } });
await check('user token', { method: 'POST', path: '/api/v1/events/ping', token: 'user', json: { count: 1 }, expect: { status: 403, code: 'forbidden' } });
await check('count 0', { method: 'POST', path: '/api/v1/events/ping', json: { count: 0 }, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('count 100001', { method: 'POST', path: '/api/v1/events/ping', json: { count: 100001 }, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('count a string', { method: 'POST', path: '/api/v1/events/ping', json: { count: '2' }, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('detail a number', { method: 'POST', path: '/api/v1/events/ping', json: { detail: 7 }, expect: { status: 400, code: 'invalid-field', specRejects: true } });
await check('unknown field', { method: 'POST', path: '/api/v1/events/ping', json: { count: 1, id: 5 }, expect: { status: 400, code: 'unknown-field', specRejects: true } });
await check('malformed', { method: 'POST', path: '/api/v1/events/ping', json: '{"count":', expect: { status: 400, code: 'malformed-json' } });
await check('text/plain', {
    method: 'POST', path: '/api/v1/events/ping', raw: 'count=1', headers: { 'Content-Type': 'text/plain' },
    expect: { status: 415, code: 'unsupported-media-type' },
});
await check('over 1 MiB', {
    method: 'POST', path: '/api/v1/events/ping', declaredLength: 2 * MiB, headers: { 'Content-Type': 'application/json' },
    expect: { status: 413, code: 'payload-too-large' },
});
{
    const r = await raw('GET', '/api/v1/events/log?since=0&limit=1000');
    const all = [];
    for (let since = 0; ;) {
        const p = await raw('GET', `/api/v1/events/log?since=${since}&limit=1000`);
        if (!p.doc?.events?.length) break;
        all.push(...p.doc.events);
        since = p.doc.next;
    }
    report('published Pings are logged as events', [
        ...want(r.status === 200, `log status ${r.status}`),
        ...want(all.filter((e) => e.type === 'Ping' && e.detail === 'contract').length === 3, 'not 3 Pings with detail "contract" in the log'),
        ...all.filter((e) => e.type === 'Ping').flatMap((e) => schemaErrors(spec.components.schemas.Event, e, `event ${e.id}`)),
    ]);
}
await check('405', { method: 'DELETE', path: '/api/v1/events', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/events/ping', expect: { status: 405, code: 'method-not-allowed' } });

// Methods and URLs the spec does not have
await check('405', { method: 'DELETE', path: '/api/v1/cache', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/health', token: null, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PATCH', path: '/api/v1/files/srv/docs/a.txt', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/items', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/connection/srv', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/', token: null, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/api/v1/sync', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/events/log', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/jobs', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PATCH', path: '/api/v1/jobs/1', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/conflicts', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/conflicts/1/resolve', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/cache/delete', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/cache/rename', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/api/v1/pins', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/suspend', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/cache/cacheable', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('404', { path: '/api/v1/nope', expect: { status: 404, code: 'no-such-endpoint' } });
await check('404', { path: '/api/v2/health', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('404', { path: '/api/v1/shares/srv', expect: { status: 404, code: 'no-such-endpoint' } });

// Share secrets: set above, never shown, never logged.
{
    const errors = leaks.length ? [`${leaks.length} answers showed a secret: ${leaks.slice(0, 5).join('; ')}`] : [];
    const log = join(work, 'daemon.log');
    if (existsSync(log)) errors.push(...leakErrors('the daemon log', readFileSync(log, 'latin1')));
    else errors.push(`no daemon log at ${log}`);
    report(`no answer and no log line shows a share's password or token (${secrets.size} secrets set)`, errors);
}

// Every operation of the spec was exercised.
for (const op of ops) {
    const seen = covered.get(op.id);
    report(`operation ${op.id} (${op.method} ${op.template}) exercised` +
        (seen ? `: ${[...seen].sort().join(', ')}` : ''), seen ? [] : ['never exercised']);
}
const undocumented = [];
for (const op of ops) {
    const seen = covered.get(op.id) ?? new Set();
    const untested = Object.keys(op.op.responses).filter((s) => !seen.has(Number(s)));
    if (untested.length) undocumented.push(`${op.id}: ${untested.join(', ')}`);
}
if (undocumented.length) {
    console.log('note: documented statuses not exercised (not a failure):');
    for (const u of undocumented) console.log(`  ${u}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
