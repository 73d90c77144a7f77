// SPDX-License-Identifier: MIT
//
// Scenario: POST /cache/rename and /cache/delete on sy/main: changes to the
// cache alone, the server keeps its names and files.

import { check, want } from '../lib/checking.mjs';
import { MiB } from '../lib/fixtures.mjs';
import { longPath } from './files.mjs';
import { first, jobEnded, jobLocation, onServer } from './sync.mjs';

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
