// SPDX-License-Identifier: MIT
//
// Scenario: offline changes to sy/main while the server changes the same
// files, the conflicts they make and their resolution, and a mass deletion
// on sy/mass held for confirmation.

import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, sleep, want } from '../lib/checking.mjs';
import { MiB } from '../lib/fixtures.mjs';
import { raw, until } from '../lib/polling.mjs';
import { longPath } from './files.mjs';
import { onServer, sy } from './sync.mjs';

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
