// SPDX-License-Identifier: MIT
//
// The command line of check.mjs and what it names: the daemon's base URL, the
// spec (parsed once, its text kept to compare with the daemon's copy), the
// admin, user and unknown bearer tokens, and the scratch directory. A missing
// option exits with status 2 before anything else runs.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { parse as parseYaml } from 'yaml';

const { values: opt } = parseArgs({
    options: {
        base: { type: 'string' },
        spec: { type: 'string' },
        'admin-token': { type: 'string' },
        'user-token': { type: 'string' },
        work: { type: 'string' },
        routes: { type: 'string', default: new URL('../../../api/routes.c', import.meta.url).pathname },
        verbose: { type: 'boolean', default: false },
    },
});
for (const k of ['base', 'spec', 'admin-token', 'user-token', 'work'])
    if (!opt[k]) {
        console.error(`check.mjs: --${k} is required`);
        process.exit(2);
    }

const base = new URL(opt.base);
const specText = readFileSync(opt.spec, 'utf8');
const spec = parseYaml(specText);
const tokens = {
    admin: readFileSync(opt['admin-token'], 'utf8').trim(),
    user: readFileSync(opt['user-token'], 'utf8').trim(),
    bad: 'of_' + '0'.repeat(64),
};
const work = opt.work;

export { base, opt, spec, specText, tokens, work };
