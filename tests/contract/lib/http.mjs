// SPDX-License-Identifier: MIT
//
// The one HTTP client of the checks: a raw node:http request per call (no
// agent, so each check gets its own connection), and the share secrets no
// answer may show, scanned in every response as it arrives.

import http from 'node:http';

import { base } from './options.mjs';

// Share secrets (passwords, tokens) the check sets: no answer may ever show one.
const secrets = new Set();
const leaks = [];
function leakErrors(where, ...texts) {
    const found = [...secrets].filter((sec) => texts.some((t) => t.includes(sec)));
    if (found.length) leaks.push(where);
    return found.map((sec) => `${where} shows the secret '${sec.slice(0, 6)}...'`);
}

function send({ method, path, headers = {}, body, declaredLength, chunks }) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: base.hostname, port: base.port, method, path, headers, agent: false });
        let answered = false;
        req.setTimeout(20000, () => req.destroy(new Error('timeout')));
        req.on('response', (res) => {
            const parts = [];
            res.on('data', (c) => parts.push(c));
            res.on('end', () => {
                answered = true;
                const body = Buffer.concat(parts);
                const leaked = leakErrors(`${method} ${path.slice(0, 80)}`, body.toString('latin1'),
                    JSON.stringify(res.headers));
                resolve({ status: res.statusCode, headers: res.headers, body, leaked });
                req.destroy();
            });
            res.on('error', (e) => { if (!answered) reject(e); });
        });
        req.on('error', (e) => { if (!answered) reject(e); });
        if (declaredLength !== undefined) {
            // Only the headers: the daemon must refuse before reading the body.
            req.flushHeaders();
        } else if (chunks) {
            for (const c of chunks) req.write(c);
            req.end();
        } else {
            if (body !== undefined) req.write(body);
            req.end();
        }
    });
}

export { leakErrors, leaks, secrets, send };
