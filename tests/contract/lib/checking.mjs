// SPDX-License-Identifier: MIT
//
// Judging answers against the spec: the pass/fail counters and the coverage
// of operations and statuses, request and response validation, and check(),
// the one function every scenario calls to send a request and report it.

import { opt, spec, tokens } from './options.mjs';
import { deref, findPath, ops, schemaErrors } from './spec.mjs';
import { send } from './http.mjs';

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

export { check, covered, failed, passed, report, requestErrors, responseErrors, sleep, want };
