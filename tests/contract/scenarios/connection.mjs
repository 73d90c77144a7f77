// SPDX-License-Identifier: MIT
//
// Scenario: /connection (forced offline and back, the prober), /files while
// offline, then removing the srv shares.

import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { check, want } from '../lib/checking.mjs';
import { hello, MiB, shares } from '../lib/fixtures.mjs';

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
