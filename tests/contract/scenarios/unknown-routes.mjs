// SPDX-License-Identifier: MIT
//
// Scenario: methods and URLs the spec does not have: 405 with the right
// Allow header, and 404 no-such-endpoint.

import { check } from '../lib/checking.mjs';

// Methods and URLs the spec does not have
await check('405', { method: 'DELETE', path: '/api/v1/cache', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/health', token: null, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PATCH', path: '/api/v1/files/srv/docs/a.txt', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/items', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/connection/srv', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/', token: null, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/api/v1/sync', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/events/log', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/jobs', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PATCH', path: '/api/v1/jobs/1', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/conflicts', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/conflicts/1/resolve', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/cache/delete', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'DELETE', path: '/api/v1/cache/rename', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'PUT', path: '/api/v1/pins', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { path: '/api/v1/suspend', expect: { status: 405, code: 'method-not-allowed' } });
await check('405', { method: 'POST', path: '/api/v1/cache/cacheable', json: {}, expect: { status: 405, code: 'method-not-allowed' } });
await check('404', { path: '/api/v1/nope', expect: { status: 404, code: 'no-such-endpoint' } });
await check('404', { path: '/api/v2/health', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('404', { path: '/api/v1/shares/srv', expect: { status: 404, code: 'no-such-endpoint' } });
