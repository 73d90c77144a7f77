// SPDX-License-Identifier: MIT
//
// Scenario: the sy server's shares (sy/main, sy/mass, sy/big), POST /sync,
// /jobs, and aborting a long sync. Also the job helpers and the sy fixtures
// the later scenarios (cache changes, conflicts, events) rely on.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { check, want } from '../lib/checking.mjs';
import { MiB, remote, shares } from '../lib/fixtures.mjs';
import { raw, until } from '../lib/polling.mjs';
import { longPath } from './files.mjs';

// Sync, jobs, conflicts, and changes to the cache alone. Their own server, sy:
// main (conflicts, cache delete and rename), mass (a mass deletion held for
// confirmation) and big (a sync long enough to abort).

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

export { bigJob, ENDED, first, jobEnded, jobLocation, onServer, sy };
