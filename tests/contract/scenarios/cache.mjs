// SPDX-License-Identifier: MIT
//
// Scenario: /cache, the cache's space and limits.

import { check, want } from '../lib/checking.mjs';
import { MiB } from '../lib/fixtures.mjs';

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
