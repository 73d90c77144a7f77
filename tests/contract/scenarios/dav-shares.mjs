// SPDX-License-Identifier: MIT
//
// Scenario: shares over WebDAV and their connection settings (auth, TLS,
// transfers, slow links), refused settings, and reconnecting when the way to
// the server changes. Removes its dav/* shares at the end.

import { check, want } from '../lib/checking.mjs';
import { raw, until } from '../lib/polling.mjs';
import { addSecret, closedUrl, conn, dav, davServer, davUrl, shareSettings } from '../lib/dav.mjs';

await check('WebDAV, basic auth, every setting', {
    method: 'POST', path: '/api/v1/shares',
    json: {
        server: 'dav', share: 'basic', remote: davUrl, cachingMode: 'manual',
        auth: { type: 'basic', username: dav.user, password: dav.password },
        caFile: '', insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
    },
    expect: { status: 201 },
    verify: (r, d) => [
        ...shareSettings(d, {
            remote: davUrl, auth: { type: 'basic', username: dav.user, secretSet: true }, caFile: null,
            insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
        }),
        ...want(d.connection.state === 'online', `the credentials did not work: ${JSON.stringify(d.connection)}`),
        ...want(dav.seen.has('Basic'), 'the server was never sent basic credentials'),
    ],
});
await check('WebDAV, defaults', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'dav', share: 'anon', remote: closedUrl('http') },
    expect: { status: 201 },
    verify: (r, d) => [
        ...shareSettings(d, {
            auth: { type: 'none', username: null, secretSet: false }, caFile: null, insecure: false,
            transfers: 4, offlineOnSlowLink: false, slowLinkMs: 0,
        }),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.nextProbeAt === 'string' && d.connection.latencyMs === null,
        `connection ${JSON.stringify(d.connection)}`),
    ],
});
const digestPassword = `dg-${Date.now().toString(36)}`;
addSecret(digestPassword, 'dguser');
await check('https, digest auth, a CA file, limits', {
    method: 'POST', path: '/api/v1/shares',
    json: {
        server: 'dav', share: 'tls', remote: closedUrl('https'), cachingMode: 'auto',
        auth: { type: 'digest', username: 'dguser', password: digestPassword },
        caFile: '/etc/ssl/certs/ca-certificates.crt', insecure: true, transfers: 32, offlineOnSlowLink: true, slowLinkMs: 600000,
    },
    expect: { status: 201 },
    verify: (r, d) => shareSettings(d, {
        remote: closedUrl('https'), auth: { type: 'digest', username: 'dguser', secretSet: true },
        caFile: '/etc/ssl/certs/ca-certificates.crt', insecure: true, transfers: 32, offlineOnSlowLink: true, slowLinkMs: 600000,
    }),
});
await check('a WebDAV share', {
    path: '/api/v1/shares/dav/basic', token: 'user', expect: { status: 200 },
    verify: (r, d) => want(d.auth.secretSet === true && !('password' in d.auth), JSON.stringify(d.auth)),
});
await check('every share, none with its secret', { path: '/api/v1/shares', expect: { status: 200 } });

// Refused share settings: nothing is added or changed.
const davShare = (extra) => ({ server: 'dav', share: 'bad', remote: davUrl, ...extra });
const refusedShares = [
    ['an unknown auth field', { auth: { type: 'basic', username: 'u', password: 'p', realm: 'x' } }, 'unknown-field'],
    ['an unknown auth type', { auth: { type: 'kerberos' } }, 'invalid-field'],
    ['auth without a type', { auth: { username: 'u', password: 'p' } }, 'invalid-field'],
    ['auth not an object', { auth: 'basic' }, 'invalid-field'],
    ['basic without a password', { auth: { type: 'basic', username: 'u' } }, 'invalid-field'],
    ['basic without a username', { auth: { type: 'basic', password: 'p' } }, 'invalid-field'],
    ['digest with a token', { auth: { type: 'digest', username: 'u', token: 't' } }, 'invalid-field'],
    ['bearer without a token', { auth: { type: 'bearer' } }, 'invalid-field'],
    ['bearer with a password', { auth: { type: 'bearer', password: 'p' } }, 'invalid-field'],
    ['none with a token', { auth: { type: 'none', token: 't' } }, 'invalid-field'],
    ['a password not a string', { auth: { type: 'basic', username: 'u', password: 5 } }, 'invalid-field'],
    ['a relative caFile', { caFile: 'certs/ca.pem' }, 'invalid-field'],
    ['caFile not a string', { caFile: 1 }, 'invalid-field'],
    ['transfers 0', { transfers: 0 }, 'invalid-field'],
    ['transfers 33', { transfers: 33 }, 'invalid-field'],
    ['transfers 2.5', { transfers: 2.5 }, 'invalid-field'],
    ['transfers a string', { transfers: '4' }, 'invalid-field'],
    ['slowLinkMs -1', { slowLinkMs: -1 }, 'invalid-field'],
    ['slowLinkMs 600001', { slowLinkMs: 600001 }, 'invalid-field'],
    ['insecure not a boolean', { insecure: 'yes' }, 'invalid-field'],
    ['offlineOnSlowLink not a boolean', { offlineOnSlowLink: 1 }, 'invalid-field'],
    ['an ftp remote', { remote: 'ftp://127.0.0.1/dav/' }, 'invalid-field'],
    ['credentials in the URL', { remote: `http://u:p@127.0.0.1:${davServer.address().port}/dav/` }, 'invalid-field'],
    ['a query in the URL', { remote: `${davUrl}?x=1` }, 'invalid-field'],
    ['a fragment in the URL', { remote: `${davUrl}#top` }, 'invalid-field'],
];
for (const [name, extra, code] of refusedShares)
    await check(name, {
        method: 'POST', path: '/api/v1/shares', json: davShare(extra), expect: { status: 400, code, specRejects: true },
    });
await check('user token, with auth', {
    method: 'POST', path: '/api/v1/shares', token: 'user',
    json: davShare({ auth: { type: 'bearer', token: dav.token } }), expect: { status: 403, code: 'forbidden' },
});
await check('none of the refused shares was added', {
    path: '/api/v1/shares/dav/bad', expect: { status: 404, code: 'no-such-share' },
});
// An http URL with an empty host is invalid (RFC 9110, 4.2.1: a recipient MUST reject it).
await check('a URL without a host', {
    method: 'POST', path: '/api/v1/shares', json: { server: 'dav', share: 'nohost', remote: 'http:///dav/' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
if ((await raw('GET', '/api/v1/shares/dav/nohost')).status === 200) await raw('DELETE', '/api/v1/shares/dav/nohost');
for (const [name, extra, code] of refusedShares)
    await check(name, {
        method: 'PATCH', path: '/api/v1/shares/dav/basic', json: extra, expect: { status: 400, code, specRejects: true },
    });
await check('an smb remote', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { remote: 'smb://srv/share' },
    expect: { status: 400, code: 'invalid-field', specRejects: true },
});
await check('the refused patches changed nothing', {
    path: '/api/v1/shares/dav/basic', expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, {
            remote: davUrl, auth: { type: 'basic', username: dav.user, secretSet: true }, caFile: null,
            insecure: false, transfers: 2, offlineOnSlowLink: false, slowLinkMs: 250,
        }),
        ...want(d.connection.state === 'online', JSON.stringify(d.connection)),
    ],
});

// Changing the way to the server reconnects: a wrong password takes the share offline.
const wrongPassword = `wrong-${Date.now().toString(36)}`;
addSecret(wrongPassword, dav.user);
await check('a wrong password', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'basic', username: dav.user, password: wrongPassword } },
    expect: { status: 200 },
    verify: (r, d) => [
        ...want(d.auth.secretSet === true, JSON.stringify(d.auth)),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.lastError === 'string' && typeof d.connection.nextProbeAt === 'string',
        `connection ${JSON.stringify(d.connection)}`),
    ],
});
await check('bearer token', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'bearer', token: dav.token } },
    expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, { auth: { type: 'bearer', username: null, secretSet: true } }),
        ...want(d.connection.state === 'online', `the token did not work: ${JSON.stringify(d.connection)}`),
        ...want(dav.seen.has('Bearer'), 'the server was never sent the token'),
    ],
});
await check('TLS settings and transfers', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { caFile: '/nonexistent/ca.pem', insecure: true, transfers: 1 },
    expect: { status: 200 },
    verify: (r, d) => shareSettings(d, {
        auth: { type: 'bearer', username: null, secretSet: true }, caFile: '/nonexistent/ca.pem', insecure: true, transfers: 1,
    }),
});
await check('an empty caFile: the system\'s CAs', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { caFile: '', insecure: false },
    expect: { status: 200 }, verify: (r, d) => shareSettings(d, { caFile: null, insecure: false, transfers: 1 }),
});
await check('back to basic auth', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { auth: { type: 'basic', username: dav.user, password: dav.password } },
    expect: { status: 200 },
    verify: (r, d) => want(d.connection.state === 'online' && d.auth.type === 'basic', JSON.stringify(d.connection)),
});
await check('no auth', {
    method: 'PATCH', path: '/api/v1/shares/dav/tls', json: { auth: { type: 'none' }, remote: closedUrl('http') },
    expect: { status: 200 },
    verify: (r, d) => shareSettings(d, { auth: { type: 'none', username: null, secretSet: false }, remote: closedUrl('http') }),
});

// A slow link: a probe that takes longer than slowLinkMs takes the share offline
// (reason slow) when offlineOnSlowLink is set. The share goes down first (a reopen
// fails), so that the prober soon measures it again.
dav.up = false;
await check('the server goes down', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { transfers: 3, offlineOnSlowLink: true, slowLinkMs: 50 },
    expect: { status: 200 },
    verify: (r, d) => [
        ...shareSettings(d, { transfers: 3, offlineOnSlowLink: true, slowLinkMs: 50 }),
        ...want(d.connection.state === 'offline' && d.connection.reason === 'connectionError' &&
            typeof d.connection.nextProbeAt === 'string', JSON.stringify(d.connection)),
    ],
});
dav.up = true;
dav.delayMs = 300;
await until('the prober to find the link slow', async () => (await conn('dav/basic'))?.reason === 'slow');
await check('offline on a slow link', {
    path: '/api/v1/connection/dav/basic', expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'slow' && d.slow === true && d.latencyMs >= 300 &&
        typeof d.nextProbeAt === 'string' && /slow-link/.test(d.lastError ?? ''), JSON.stringify(d)),
});
await check('offline on a slow link', {
    path: '/api/v1/connection/dav', expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline', JSON.stringify(d)),
});
await check('stay online on a slow link', {
    method: 'PATCH', path: '/api/v1/shares/dav/basic', json: { offlineOnSlowLink: false },
    expect: { status: 200 }, verify: (r, d) => shareSettings(d, { offlineOnSlowLink: false, slowLinkMs: 50, transfers: 3 }),
});
// Up again on the same slow link, not set to go offline on it: transparently cached.
await until('the prober to bring the share back', async () => (await conn('dav/basic'))?.state === 'transparentlyCached');
dav.delayMs = 0;
await check('back up on a slow link, latency measured: transparently cached', {
    path: '/api/v1/shares/dav/basic', expect: { status: 200 },
    verify: (r, d) => want(d.connection.state === 'transparentlyCached' && d.connection.reason === null &&
        d.connection.slow === true && Number.isInteger(d.connection.latencyMs) && d.connection.latencyMs >= 300 &&
        d.connection.nextProbeAt === null,
    JSON.stringify(d.connection)),
});
await check('forced offline: no probe planned', {
    method: 'PUT', path: '/api/v1/connection/dav/anon', json: { state: 'offline' }, expect: { status: 200 },
    verify: (r, d) => want(d.state === 'offline' && d.reason === 'forced' && d.nextProbeAt === null, JSON.stringify(d)),
});
for (const s of ['basic', 'anon', 'tls'])
    await check('', { method: 'DELETE', path: `/api/v1/shares/dav/${s}`, expect: { status: 204 } });
