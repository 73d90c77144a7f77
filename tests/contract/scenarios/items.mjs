// SPDX-License-Identifier: MIT
//
// Scenario: /items, the cache's view of servers, shares and paths, with paging.

import { check, want } from '../lib/checking.mjs';
import { hello } from '../lib/fixtures.mjs';
import { longPath } from './files.mjs';

// Items
await check('server', {
    path: '/api/v1/items/srv', expect: { status: 200, op: 'itemsGet' },
    verify: (r, d) => want(d.type === 'server' && d.parent === null, JSON.stringify(d).slice(0, 200)),
});
await check('share', { path: '/api/v1/items/srv/docs', expect: { status: 200 } });
await check('file', {
    path: '/api/v1/items/srv/docs/a.txt', expect: { status: 200 },
    verify: (r, d) => want(d.type === 'file' && d.parent === '//srv/docs' && d.local.size === hello.length,
        JSON.stringify(d).slice(0, 300)),
});
await check('ghost', {
    path: '/api/v1/items/srv/docs/sub/b.txt', expect: { status: 200 },
    verify: (r, d) => want(d.ghosted === true, 'not a ghost'),
});
await check('', { path: '/api/v1/items/srv/docs/nothere', expect: { status: 404, code: 'not-found' } });
await check('dot segment', {
    path: '/api/v1/items/srv/%2E', expect: { status: 400, code: 'invalid-path', specRejects: true },
});
await check('path over 4096 bytes', {
    path: `/api/v1/items/${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});

await check('servers', {
    path: '/api/v1/items', expect: { status: 200, op: 'itemsList' },
    verify: (r, d) => want(d.items.every((i) => i.type === 'server'), 'not only servers'),
});
await check('every filter', {
    path: '/api/v1/items?under=//srv/docs&depth=all&type=file,directory&flags=file&mask=file,directory' +
        '&includeFiles=*.txt,*.md&excludeFiles=zz*&includeDirs=*&excludeDirs=zz*,yy*' +
        '&modifiedAfter=2000-01-01T00:00:00Z&modifiedBefore=2200-01-01T00:00:00.000Z&limit=50',
    expect: { status: 200 },
    verify: (r, d) => want(d.items.length > 0 && d.items.every((i) => i.type === 'file' && /\.(txt|md)$/.test(i.path)),
        `items ${d.items.map((i) => i.path)}`),
});
const p1 = await check('page 1', {
    path: '/api/v1/items?under=//srv/docs&depth=all&limit=1', expect: { status: 200 },
    verify: (r, d) => want(d.items.length === 1 && typeof d.next === 'string', `next ${d.next}`),
});
const cursor = encodeURIComponent(p1?.doc?.next ?? '//srv/docs');
await check('page 2 by cursor', {
    path: `/api/v1/items?under=//srv/docs&depth=all&limit=1&cursor=${cursor}`, expect: { status: 200 },
    verify: (r, d) => want(d.items.length === 1 && d.items[0].path !== p1?.doc?.items[0].path, 'same page'),
});
await check('page 2 by next', {
    path: `/api/v1/items?under=//srv/docs&depth=all&limit=1&next=${cursor}`, expect: { status: 200 },
});
await check('last page', {
    path: '/api/v1/items?under=//srv/docs&depth=all&limit=1000', expect: { status: 200 },
    verify: (r, d) => want(d.next === null, `next ${d.next}`),
});
await check('flags that must be clear', {
    path: '/api/v1/items?under=//srv&depth=all&flags=&mask=ghosted,dirty', expect: { status: 200 },
    verify: (r, d) => want(d.items.every((i) => !i.ghosted && !i.change.dirty), 'a ghost or dirty item'),
});
await check('depth 2', { path: '/api/v1/items?depth=2', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 0', { path: '/api/v1/items?limit=0', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit 1001', { path: '/api/v1/items?limit=1001', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('limit abc', { path: '/api/v1/items?limit=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown flag', { path: '/api/v1/items?flags=shiny', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('unknown type', { path: '/api/v1/items?type=file,link', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('bad time', {
    path: '/api/v1/items?modifiedAfter=yesterday', expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('a date alone', { path: '/api/v1/items?modifiedAfter=2001-02-03', expect: { status: 200 } });
await check('a time with an offset', {
    path: '/api/v1/items?modifiedBefore=2100-01-01T00:00:00.5%2B02:00', expect: { status: 200 },
});
await check('bad cursor', { path: '/api/v1/items?cursor=abc', expect: { status: 400, code: 'invalid-query', specRejects: true } });
await check('17 patterns', {
    path: `/api/v1/items?includeFiles=${Array.from({ length: 17 }, (_, i) => `p${i}`).join(',')}`,
    expect: { status: 400, code: 'invalid-query', specRejects: true },
});
await check('under not a path', { path: '/api/v1/items?under=srv', expect: { status: 400, code: 'invalid-path', specRejects: true } });
await check('under not cached', { path: '/api/v1/items?under=//srv/docs/nothere', expect: { status: 404, code: 'not-found' } });
await check('under a file', {
    path: '/api/v1/items?under=//srv/docs/a.txt', expect: { status: 409, code: 'not-a-directory' },
});
await check('under a file, all depths', { path: '/api/v1/items?under=//srv/docs/a.txt&depth=all', expect: { status: 200 } });
await check('under over 4096 bytes', {
    path: `/api/v1/items?under=//${longPath}`, expect: { status: 414, code: 'uri-too-long', specRejects: true },
});
