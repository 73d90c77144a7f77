// SPDX-License-Identifier: MIT
//
// Scenario: pins, suspended trees and IsPathCacheable, on a share of their
// own, pn/main (manual caching: only what is pinned is kept).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, want } from '../lib/checking.mjs';
import { MiB, remote, shares } from '../lib/fixtures.mjs';
import { raw } from '../lib/polling.mjs';
import { longPath } from './files.mjs';
import { ENDED, jobEnded, jobLocation } from './sync.mjs';

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
