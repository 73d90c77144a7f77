// SPDX-License-Identifier: MIT
//
// Scenario: the event log (every page, validated), the event stream (SSE,
// read with fetch until it has what it waits for) and published Ping events.

import { base, spec, tokens } from '../lib/options.mjs';
import { ops, schemaErrors } from '../lib/spec.mjs';
import { leakErrors } from '../lib/http.mjs';
import { check, covered, report, requestErrors, responseErrors, want } from '../lib/checking.mjs';
import { MiB } from '../lib/fixtures.mjs';
import { raw } from '../lib/polling.mjs';
import { bigJob } from './sync.mjs';

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
