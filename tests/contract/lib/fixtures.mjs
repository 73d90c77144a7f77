// SPDX-License-Identifier: MIT
//
// The files the checks serve: the directories behind the file:// shares under
// WORK/shares and the dashboard's files in WORK/web, written afresh on load
// (importing this module creates them), and small constants the scenarios share.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { work } from './options.mjs';

const shares = join(work, 'shares');
const web = join(work, 'web');
rmSync(shares, { recursive: true, force: true });
mkdirSync(join(shares, 'docs', 'sub'), { recursive: true });
mkdirSync(join(shares, 'docs', 'empty'), { recursive: true });
mkdirSync(join(shares, 'other'), { recursive: true });
mkdirSync(join(shares, 'flaky'), { recursive: true });
mkdirSync(join(shares, 'nocache'), { recursive: true });
mkdirSync(web, { recursive: true });
const hello = 'hello, offline world\n';
writeFileSync(join(shares, 'docs', 'a.txt'), hello);
writeFileSync(join(shares, 'docs', 'sub', 'b.txt'), 'bee\n');
writeFileSync(join(shares, 'docs', 'sub', 'c.md'), '# c\n');
writeFileSync(join(shares, 'other', 'x.txt'), 'x\n');
mkdirSync(join(shares, 'docs', 'morph', 'dir'), { recursive: true });
writeFileSync(join(shares, 'docs', 'morph', 'file'), 'a file for now\n');
writeFileSync(join(web, 'index.html'), '<!doctype html><title>offlinefiles</title>\n');
writeFileSync(join(web, 'app.js'), 'console.log("dashboard");\n');
writeFileSync(join(web, 'style.css'), 'body { margin: 0 }\n');
writeFileSync(join(web, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
writeFileSync(join(web, 'manifest.json'), '{"name":"offlinefiles"}\n');
writeFileSync(join(web, 'blob.bin'), Buffer.from([0, 1, 2, 3, 255]));
writeFileSync(join(web, '.hidden'), 'secret\n');

const remote = (dir) => `file://${join(shares, dir)}`;
const MiB = 1024 * 1024;
const bigJson = JSON.stringify({ server: 'x'.repeat(MiB + 16) });

export { bigJson, hello, MiB, remote, shares, web };
