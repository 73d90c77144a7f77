// SPDX-License-Identifier: MIT
//
// Scenario: the file:// shares the later scenarios use (srv/docs, srv/other,
// srv2/nocache, srv3/flaky, srv3/gone), and every way of creating, listing
// and patching them that the daemon must refuse.

import { check, want } from '../lib/checking.mjs';
import { bigJson, MiB, remote } from '../lib/fixtures.mjs';

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
