// A release server on a fresh SQLite database, a tenant made with the admin CLI, chat tokens from
// the API, and Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const BIN = process.env.PERFORMCHAT_BIN || path.join(root, 'target', 'release', 'performchat');
export const ARTIFACTS = process.env.WIDGET_ARTIFACTS || path.join(root, 'target', 'browser-artifacts');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startServer(env = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run cargo build --release first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'widget-browser-'));
  const db = `sqlite://${path.join(dir, 'chat.db')}`;
  const cli = (...args) => JSON.parse(execFileSync(BIN, ['--database-url', db, ...args, '--json'], { encoding: 'utf8' }));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const log = fs.openSync(path.join(dir, 'server.log'), 'a');
    const child = spawn(BIN, ['--database-url', db, 'serve', '--listen', `127.0.0.1:${port}`],
      { stdio: ['ignore', log, log], env: { ...process.env, RUST_LOG: 'warn', ...env } });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && child.exitCode === null) {
      const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
      if (ok) {
        return {
          base, cli, dir,
          log: () => fs.readFileSync(path.join(dir, 'server.log'), 'utf8'),
          stop: async () => {
            if (child.exitCode === null) {
              child.kill('SIGTERM');
              await new Promise((r) => child.once('exit', r));
            }
            fs.rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL'); // most likely the port was taken meanwhile: try another
  }
  throw new Error(`the server did not become healthy: ${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
}

/** One company, an API key, and an agent per stand-in model behaviour. */
export function makeTenant(server, modelUrl, downUrl) {
  const company = server.cli('company', 'create', '--name', 'Widget Shop').id;
  const key = server.cli('api-key', 'create', '--company', company, '--name', 'widget tests');
  const agent = (name, url, model) => server.cli('agent', 'create', '--company', company, '--name', name,
    '--prompt-template', 'You help {{customer_user.external_id}}.', '--llm-url', url, '--llm-model', model).id;
  const agents = {
    gated: agent('Shop Assistant', modelUrl, 'gated'),
    echo: agent('Echo Assistant', modelUrl, 'echo'),
    html: agent('HTML Assistant', modelUrl, 'html'),
    down: agent('Absent Assistant', downUrl, 'gone'),
  };
  const auth = `Basic ${Buffer.from(`${key.keyId}:${key.keySecret}`).toString('base64')}`;
  const call = async (p, body) => {
    const r = await fetch(`${server.base}/rest/v1${p}`, {
      method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    agents,
    /** POST to an API route with the tenant's key (documents, for the sources tests). */
    call,
    /** The body of POST /auth/token, as a company's back end would pass it on. */
    token: (userId, agentId, expiresIn = '1h') => call('/auth/token', { userId, agentId, expiresIn }),
    invalidate: (customerUserId) => call('/auth/invalidate-token', { customerUserId }),
  };
}

/** A port with nothing listening: a model that is down. */
export async function deadUrl() {
  return `http://127.0.0.1:${await freePort()}/v1`;
}

export function launchBrowser() {
  const candidates = [process.env.CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(Boolean);
  const executablePath = candidates.find((p) => fs.existsSync(p));
  if (!executablePath) throw new Error('Chromium is missing: apt-get install chromium');
  // Root in a container has no user namespaces for Chromium's sandbox.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

export async function screenshot(page, name, clip) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file, clip });
  return file;
}
