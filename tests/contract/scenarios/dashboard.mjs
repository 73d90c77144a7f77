// SPDX-License-Identifier: MIT
//
// Scenario: the static dashboard files from WORK/web.

import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { check, want } from '../lib/checking.mjs';
import { web } from '../lib/fixtures.mjs';

// The dashboard
await check('', {
    path: '/', token: null, expect: { status: 200, op: 'staticIndex' },
    verify: (r) => want(r.body.toString().startsWith('<!doctype html>'), 'not the index'),
});
for (const f of ['index.html', 'app.js', 'style.css', 'logo.svg', 'manifest.json', 'blob.bin'])
    await check('', { path: `/web/${f}`, token: null, expect: { status: 200, op: 'staticGet' } });
rmSync(join(web, 'index.html'));
await check('no index.html', { path: '/', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('', { path: '/web/missing.js', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
await check('dot file', { path: '/web/.hidden', token: null, expect: { status: 404, code: 'no-such-endpoint', specRejects: true } });
await check('subdirectory', { path: '/web/a/b.js', token: null, expect: { status: 404, code: 'no-such-endpoint' } });
