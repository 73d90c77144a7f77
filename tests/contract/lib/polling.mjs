// SPDX-License-Identifier: MIT
//
// Requests that only wait for the daemon: raw() sends without judging the
// answer, until() polls and reports a failed check only on timeout. Used by
// the scenarios from the WebDAV shares on.

import { tokens } from './options.mjs';
import { send } from './http.mjs';
import { report, sleep } from './checking.mjs';

// Requests that only wait for the daemon (polling): not checks themselves.
async function raw(method, path, json, token = 'admin') {
    const headers = { Authorization: `Bearer ${tokens[token]}` };
    let body;
    if (json !== undefined) {
        body = JSON.stringify(json);
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(body);
    }
    const res = await send({ method, path, headers, body });
    let doc;
    try { doc = JSON.parse(res.body.toString('utf8')); } catch { /* not JSON */ }
    return { ...res, doc };
}
// Poll fn until it returns something truthy; undefined after ms (reported as a failed check).
async function until(what, fn, ms = 20000) {
    const end = Date.now() + ms;
    for (;;) {
        const v = await fn().catch(() => undefined);
        if (v) return v;
        if (Date.now() > end) {
            report(`wait for ${what}`, [`not within ${ms / 1000} s`]);
            return undefined;
        }
        await sleep(50);
    }
}

export { raw, until };
