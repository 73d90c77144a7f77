// SPDX-License-Identifier: MIT
//
// Browser test of the dashboard (web/) against the real daemon, in headless
// Chromium driven by playwright-core (the system's /usr/bin/chromium; no
// browser is ever downloaded).
//
//   node dashboard.mjs /path/to/offlinefilesd
//
// Starts the daemon on 127.0.0.1 with a free port, a temporary data dir and a
// share //demo/files over a temporary directory; opens the dashboard with
// #token=...; checks what a person would check; writes a screenshot to
// /tmp/dashboard.png (SCREENSHOT=path to change it). The last line is
// "N passed, M failed"; the exit status is non-zero when anything failed.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB_DIR = path.resolve(here, '../../web');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.SCREENSHOT || '/tmp/dashboard.png';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const SHARE = '//demo/files';
const FILE_TEXT = 'hello from the share\n';
const UPLOAD_NAME = 'from-browser.txt';
const UPLOAD_TEXT = `uploaded through the dashboard at ${new Date().toISOString()}\n`;

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok     ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED ${name}\n       ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 4).join('\n       ')}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const bin = process.argv[2];
  if (!bin) {
    console.error('usage: node dashboard.mjs /path/to/offlinefilesd');
    process.exit(2);
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'of-dashboard-'));
  const dataDir = path.join(tmp, 'data');
  const shareDir = path.join(tmp, 'share');
  await mkdir(path.join(shareDir, 'sub'), { recursive: true });
  await writeFile(path.join(shareDir, 'a.txt'), FILE_TEXT);
  await writeFile(path.join(shareDir, 'sub', 'b.txt'), 'in a subfolder\n');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let daemonLog = '';
  const daemon = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
    '--web-dir', WEB_DIR, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = null;
  daemon.on('exit', (code, sig) => { exited = { code, sig }; });
  daemon.stdout.on('data', (d) => { daemonLog += d; });
  daemon.stderr.on('data', (d) => { daemonLog += d; });

  let browser = null;
  try {
    // The daemon answers health once it listens; the token file exists by then.
    let up = false;
    for (let i = 0; i < 100 && !up && !exited; i++) {
      try {
        up = (await fetch(`${base}/api/v1/health`)).ok;
      } catch {
        await sleep(100);
      }
    }
    assert(up, `the daemon did not start: ${exited ? JSON.stringify(exited) : 'no answer'}`);
    const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
    const api = (method, p, body) => fetch(`${base}/api/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const created = await api('POST', '/shares', {
      server: 'demo', share: 'files', remote: `file://${shareDir}`, cachingMode: 'auto',
    });
    assert(created.status === 201, `POST /shares answered ${created.status}: ${await created.text()}`);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1360, height: 960 }, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    const consoleErrors = [];
    const foreign = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['blob:', 'data:'].includes(u.protocol) && u.host !== `127.0.0.1:${port}`) foreign.push(r.url());
    });

    const shareRow = () => page.locator(`#shares-table tr[data-path="${SHARE}"]`);
    const entryRow = (name) => page.locator(`#listing tr[data-path="${SHARE}/${name}"]`);

    await check('the dashboard loads and takes the token from #token=, then hides it', async () => {
      const res = await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
      assert(res.ok(), `GET / answered ${res.status()}`);
      await page.locator('#app').waitFor({ state: 'visible' });
      assert(!page.url().includes('token'), `the token is still in the address bar: ${page.url()}`);
      const kept = await page.evaluate(() => sessionStorage.getItem('offlinefiles.token'));
      assert(kept === token, 'the token is not in sessionStorage');
    });

    await check('health and version are shown', async () => {
      await page.locator('#status', { hasText: 'healthy' }).waitFor();
      await page.locator('#version', { hasText: /offlinefiles \d+\.\d+/ }).waitFor();
    });

    await check('the shares list shows the share, its connection state and caching mode', async () => {
      await shareRow().waitFor();
      const text = await shareRow().innerText();
      assert(text.includes('online') && text.includes('auto') && text.includes(shareDir),
        `the share row reads: ${text}`);
    });

    await check('the cache card shows the space in use', async () => {
      await page.locator('#cache-body meter').first().waitFor();
      const text = await page.locator('#cache-body').innerText();
      assert(text.includes(path.join(dataDir, 'cache')) || text.includes('cache'), `cache reads: ${text}`);
    });

    await check('browsing into the share lists its file and folder', async () => {
      await page.getByRole('button', { name: `Browse ${SHARE}` }).click();
      await entryRow('a.txt').waitFor();
      await entryRow('sub').waitFor();
      await page.getByRole('button', { name: 'Open folder sub' }).click();
      await entryRow('sub/b.txt').waitFor();
      await page.locator('#crumbs').getByRole('button', { name: SHARE }).click();
      await entryRow('a.txt').waitFor();
    });

    await check('a file shows its item details from /items', async () => {
      await page.getByRole('button', { name: 'Details of a.txt', exact: true }).click();
      await page.locator('#details-path', { hasText: `${SHARE}/a.txt` }).waitFor();
      const raw = JSON.parse(await page.locator('#details-raw').textContent());
      assert(raw.type === 'file' && raw.local.size === FILE_TEXT.length, `details: ${JSON.stringify(raw).slice(0, 200)}`);
    });

    await check('a file downloads with its content', async () => {
      const [dl] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Download a.txt' }).click(),
      ]);
      assert(dl.suggestedFilename() === 'a.txt', `download named ${dl.suggestedFilename()}`);
      const body = await readFile(await dl.path(), 'utf8');
      assert(body === FILE_TEXT, `downloaded ${JSON.stringify(body)}`);
    });

    await check('the offline button puts the share offline', async () => {
      await page.getByRole('button', { name: `Work offline on ${SHARE}` }).click();
      await shareRow().locator('[data-state="offline"]').waitFor();
      await page.getByRole('button', { name: `Go online on ${SHARE}` }).waitFor();
      const conn = await (await api('GET', '/connection/demo/files')).json();
      assert(conn.state === 'offline' && conn.reason === 'forced', `the API says ${JSON.stringify(conn)}`);
      await page.locator('#listing-note', { hasText: 'offline' }).waitFor();
    });

    await check('a file uploaded through the page exists over the API and shows as changed', async () => {
      await page.setInputFiles('#upload-input', {
        name: UPLOAD_NAME, mimeType: 'text/plain', buffer: Buffer.from(UPLOAD_TEXT),
      });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await entryRow(UPLOAD_NAME).waitFor();
      const res = await api('GET', `/files/demo/files/${UPLOAD_NAME}`);
      assert(res.status === 200, `GET the upload answered ${res.status}`);
      const body = await res.text();
      assert(body === UPLOAD_TEXT, `the upload reads ${JSON.stringify(body)}`);
      await page.locator(`#listing tr.is-dirty[data-path="${SHARE}/${UPLOAD_NAME}"]`).waitFor();
      await page.locator('#dirty-list', { hasText: `${SHARE}/${UPLOAD_NAME}` }).waitFor();
    });

    await check('the uploaded file\'s details show it was created offline', async () => {
      await page.getByRole('button', { name: `Details of ${UPLOAD_NAME}`, exact: true }).click();
      await page.locator('#details-path', { hasText: `${SHARE}/${UPLOAD_NAME}` }).waitFor();
      await page.locator('#details-list', { hasText: 'created offline' }).waitFor();
    });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`# screenshot: ${SCREENSHOT}`);

    await check('an API error is shown with its problem+json title, detail and code', async () => {
      await page.fill('#goto-input', `${SHARE}/not-there.txt`);
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      const err = page.locator('#errors .error').first();
      await err.waitFor();
      const text = await err.innerText();
      assert(/not-available-offline|not-found/.test(text), `the error reads: ${text}`);
    });

    await check('the online button brings the share back', async () => {
      await page.getByRole('button', { name: `Go online on ${SHARE}` }).click();
      await shareRow().locator('[data-state="online"]').waitFor();
      const conn = await (await api('GET', '/connection/demo/files')).json();
      assert(conn.state === 'online', `the API says ${JSON.stringify(conn)}`);
    });

    await check('a refused token brings back the sign-in form with the error', async () => {
      const p2 = await context.newPage();
      p2.setDefaultTimeout(10000);
      await p2.goto(`${base}/#token=of_not_a_valid_token`);
      await p2.locator('#login').waitFor({ state: 'visible' });
      await p2.locator('#errors', { hasText: 'unauthorized' }).waitFor();
      await p2.close();
    });

    await check('the page made no requests beyond the daemon and logged no script errors', async () => {
      assert(foreign.length === 0, `requests elsewhere: ${foreign.join(', ')}`);
      // The refused token and the deliberate 503 show up as failed loads; nothing else may.
      const unexpected = consoleErrors.filter((t) => !/status of (401|404|503)/.test(t));
      assert(unexpected.length === 0, `console: ${unexpected.join(' | ')}`);
    });
  } catch (e) {
    failed++;
    console.log(`FAILED setup\n       ${e && e.stack ? e.stack : e}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (!exited) {
      daemon.kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await sleep(50);
      if (!exited) daemon.kill('SIGKILL');
    }
    if (failed) console.log(`# daemon log:\n${daemonLog.trimEnd().split('\n').slice(-30).map((l) => `#   ${l}`).join('\n')}`);
    await rm(tmp, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
