// SPDX-License-Identifier: MIT
//
// The check's own small WebDAV server (one empty collection, credentials
// required, down or slow on demand) and the share secrets it registers. It
// starts listening when first imported, i.e. when the WebDAV scenario begins.

import http from 'node:http';

import { secrets } from './http.mjs';
import { raw } from './polling.mjs';

// Shares over WebDAV and their connection settings. A small WebDAV server of
// this check's own answers PROPFIND on its collection /dav/ (empty) and
// requires the credentials the share is given: a share online proves the
// daemon sent them. It can be down (503) or slow (delay) on demand.
const dav = {
    up: true, delayMs: 0, user: 'davuser',
    password: `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    token: `tok-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`,
    seen: new Set(), // the kinds of Authorization the server was sent
};
const addSecret = (sec, user) => {
    secrets.add(sec);
    if (user !== undefined) secrets.add(Buffer.from(`${user}:${sec}`).toString('base64'));
};
addSecret(dav.password, dav.user);
addSecret(dav.token);
const davServer = http.createServer((req, res) => {
    const answer = () => {
        const auth = req.headers.authorization ?? '';
        if (auth) dav.seen.add(auth.split(' ')[0]);
        if (!dav.up) {
            res.writeHead(503, { 'Content-Length': 0 });
            return res.end();
        }
        if (auth !== `Basic ${Buffer.from(`${dav.user}:${dav.password}`).toString('base64')}` && auth !== `Bearer ${dav.token}`) {
            res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="dav"', 'Content-Length': 0 });
            return res.end();
        }
        const p = new URL(req.url, 'http://x').pathname;
        if (req.method !== 'PROPFIND' || (p !== '/dav/' && p !== '/dav')) {
            res.writeHead(req.method === 'PROPFIND' ? 404 : 405, { 'Content-Length': 0 });
            return res.end();
        }
        const xml = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response>' +
            '<D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype>' +
            '<D:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</D:getlastmodified></D:prop>' +
            '<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>\n';
        res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
        res.end(xml);
    };
    req.resume();
    req.on('end', () => (dav.delayMs ? setTimeout(answer, dav.delayMs) : answer()));
});
await new Promise((resolve) => davServer.listen(0, '127.0.0.1', resolve));
davServer.unref();
const davUrl = `http://127.0.0.1:${davServer.address().port}/dav/`;
const closedUrl = (scheme) => `${scheme}://127.0.0.1:1/dav/`; // nothing listens on port 1
const conn = async (p) => (await raw('GET', `/api/v1/connection/${p}`)).doc;
const shareSettings = (d, want_) => Object.entries(want_).filter(([k, v]) => JSON.stringify(d[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${k} is ${JSON.stringify(d[k])}, want ${JSON.stringify(v)}`);

export { addSecret, closedUrl, conn, dav, davServer, davUrl, shareSettings };
