// SPDX-License-Identifier: MIT
//
// Scenario: health, version, the embedded spec, bearer tokens, and every
// secured operation refusing a request without a token.

import { spec, specText } from '../lib/options.mjs';
import { deref, ops } from '../lib/spec.mjs';
import { check, want } from '../lib/checking.mjs';

// Meta
await check('', { path: '/api/v1/health', token: null, expect: { status: 200, op: 'healthGet' } });
await check('HEAD like GET', { method: 'HEAD', path: '/api/v1/health', token: null, expect: { status: 200 } });
await check('', {
    path: '/api/v1/version', expect: { status: 200, op: 'versionGet' },
    verify: (r, d) => want(d.user.admin === true, 'admin token not admin'),
});
await check('user token', {
    path: '/api/v1/version', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.user.admin === false && d.user.name === 'bob', `user is ${JSON.stringify(d.user)}`),
});
await check('unknown token', { path: '/api/v1/version', token: 'bad', expect: { status: 401, code: 'unauthorized' } });
await check('not a bearer', {
    path: '/api/v1/version', token: null, headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    expect: { status: 401, code: 'unauthorized' },
});
await check('the embedded spec is this file', {
    path: '/api/v1/openapi.yaml', expect: { status: 200, op: 'openapiGet' },
    verify: (r) => want(r.body.toString('utf8') === specText,
        'the daemon serves a different openapi.yaml (rebuild the daemon?)'),
});

// Every secured operation refuses a request without a token.
const sample = {
    server: 'srv', share: 'docs', path: 'srv/docs/a.txt', file: 'app.js', id: '1',
};
for (const op of ops) {
    const sec = op.op.security ?? spec.security;
    if (!sec || sec.length === 0) continue;
    const path = op.template.replace(/\{([^}]+)\}/g, (_, n) => sample[n]);
    const opts = { method: op.method, path, token: null, expect: { status: 401, code: 'unauthorized', op: op.id } };
    if (op.op.requestBody && deref(op.op.requestBody).content['application/json']) opts.json = {};
    await check('no token', opts);
}
