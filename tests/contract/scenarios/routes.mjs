// SPDX-License-Identifier: MIT
//
// The route table vs the spec: api/routes.c and openapi.yaml list the same
// operations with the same handlers. Runs first, before any request.

import { readFileSync } from 'node:fs';

import { opt } from '../lib/options.mjs';
import { ops } from '../lib/spec.mjs';
import { report } from '../lib/checking.mjs';

// Every (method, pattern, handler) of api/routes.c is an operation of the spec with
// that x-handler, and every operation of the spec is a route: nothing undocumented.
{
    const src = readFileSync(opt.routes, 'utf8');
    const bits = { GET_: ['GET', 'HEAD'], API_GET: ['GET'], API_HEAD: ['HEAD'], API_POST: ['POST'],
        API_PUT: ['PUT'], API_PATCH: ['PATCH'], API_DELETE: ['DELETE'] };
    const routes = [];
    const rx = /\{\s*\.methods\s*=\s*([^,]+?),\s*\.pattern\s*=\s*"([^"]+)",\s*\.handler\s*=\s*(\w+)/g;
    for (const m of src.matchAll(rx)) {
        const methods = m[1].split('|').flatMap((t) => bits[t.trim()] ?? [`?${t.trim()}`]);
        for (const method of methods) routes.push({ method, pattern: m[2], handler: m[3] });
    }
    const norm = (p) => p.replace(/\{[^}]*\}/g, '{}').replace(/\*\*$/, '{}');
    const errors = routes.length ? [] : [`no routes found in ${opt.routes}`];
    for (const r of routes) {
        const op = ops.find((o) => norm(o.template) === norm(r.pattern) && o.method === r.method) ??
            (r.method === 'HEAD' ? ops.find((o) => norm(o.template) === norm(r.pattern) && o.method === 'GET') : undefined);
        if (!op) errors.push(`route ${r.method} ${r.pattern} (${r.handler}) is not in the spec`);
        else if (op.op['x-handler'] !== r.handler)
            errors.push(`route ${r.method} ${r.pattern} is served by ${r.handler}, the spec says ${op.op['x-handler']}`);
    }
    for (const o of ops)
        if (!routes.some((r) => norm(r.pattern) === norm(o.template) && r.method === o.method))
            errors.push(`operation ${o.id} (${o.method} ${o.template}) has no route in routes.c`);
    report(`the spec has exactly the ${routes.length} route methods of ${opt.routes.split('/').slice(-2).join('/')}`, errors);
}
