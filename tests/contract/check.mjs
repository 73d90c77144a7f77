// SPDX-License-Identifier: MIT
//
// Contract check of offlinefilesd against openapi/openapi.yaml: drives every
// operation of the spec over HTTP (success and error cases) and validates
// each response - status, Content-Type, headers and body - against the spec
// with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1). A response the
// spec does not describe is a failure, and so is an operation never
// exercised. The request side is checked too: what the daemon accepts must
// be valid per the spec, and inputs the daemon refuses as invalid should be
// refused by the spec's schemas as well.
//
// For WebDAV shares the check runs a small WebDAV server of its own on
// 127.0.0.1 (one empty collection, credentials required, down or slow on
// demand). The passwords and tokens it gives shares must never appear in any
// answer or in the daemon's log.
//
// Usage: node check.mjs --base http://127.0.0.1:PORT --spec openapi.yaml
//          --admin-token FILE --user-token FILE --work DIR
// DIR is a scratch directory (the daemon's --web-dir must be DIR/web).
// Prints one line per check and, last, "N passed, M failed".
//
// This file is the entry point: it runs the scenarios under scenarios/ in
// order and prints the totals. lib/ holds what they share: the command line
// (options), the spec and its validators (spec), the HTTP client (http),
// check() and the counters (checking), the fixture files (fixtures), the
// polling helpers (polling) and the WebDAV server (dav).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { work } from './lib/options.mjs';
import { ops } from './lib/spec.mjs';
import { leakErrors, leaks, secrets } from './lib/http.mjs';
import { covered, failed, passed, report } from './lib/checking.mjs';
// After the modules above, as the fixtures were always written after them.
import './lib/fixtures.mjs';

// The route table first, before the crash handler, as it always ran.
await import('./scenarios/routes.mjs');

process.on('uncaughtException', (e) => {
    report('the check itself', [`crashed: ${e.stack}`]);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(1);
});

// The scenarios, in this order: they share the daemon's state (shares, the
// sy and pn servers, jobs, events), each building on what the ones before did.
const scenarios = [
    'meta', 'shares', 'dav-shares', 'files', 'items', 'cache', 'connection', 'dashboard',
    'sync', 'cache-changes', 'conflicts', 'pins', 'events', 'unknown-routes',
];
for (const name of scenarios) await import(`./scenarios/${name}.mjs`);

// Share secrets: set by the scenarios, never shown, never logged.
{
    const errors = leaks.length ? [`${leaks.length} answers showed a secret: ${leaks.slice(0, 5).join('; ')}`] : [];
    const log = join(work, 'daemon.log');
    if (existsSync(log)) errors.push(...leakErrors('the daemon log', readFileSync(log, 'latin1')));
    else errors.push(`no daemon log at ${log}`);
    report(`no answer and no log line shows a share's password or token (${secrets.size} secrets set)`, errors);
}

// Every operation of the spec was exercised.
for (const op of ops) {
    const seen = covered.get(op.id);
    report(`operation ${op.id} (${op.method} ${op.template}) exercised` +
        (seen ? `: ${[...seen].sort().join(', ')}` : ''), seen ? [] : ['never exercised']);
}
const undocumented = [];
for (const op of ops) {
    const seen = covered.get(op.id) ?? new Set();
    const untested = Object.keys(op.op.responses).filter((s) => !seen.has(Number(s)));
    if (untested.length) undocumented.push(`${op.id}: ${untested.join(', ')}`);
}
if (undocumented.length) {
    console.log('note: documented statuses not exercised (not a failure):');
    for (const u of undocumented) console.log(`  ${u}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
