// SPDX-License-Identifier: MIT
//
// Scenario: /files online on srv/docs: listing, reading, writing, moving and
// deleting, ETags and preconditions, and paths the daemon must refuse.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, want } from '../lib/checking.mjs';
import { hello, MiB, shares } from '../lib/fixtures.mjs';

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

export { longPath };
