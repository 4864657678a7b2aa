// Starts the real pyralog-server binary on a free loopback port with a fresh
// data directory, as conformance.md asks; tests stop it when done.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';

import { Client } from '../index.mjs';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 30_000;

export function serverBinary() {
  const target = process.env.CARGO_TARGET_DIR || join(REPO, 'target');
  const path = process.env.PYRALOG_SERVER_BIN || join(target, 'debug', 'pyralog-server');
  if (!existsSync(path)) throw new Error(`${path} is missing: build it first (cargo build -p pyralog-server)`);
  return path;
}

/** The `pyralog` CLI next to the server binary (target/debug/pyralog). */
export function cliBinary() {
  const path = join(dirname(serverBinary()), 'pyralog');
  if (!existsSync(path)) throw new Error(`${path} is missing: build it first (cargo build -p pyralog-cli)`);
  return path;
}

/**
 * A running server: `addr`, `caFile`, `stop()`; `dir` (its temporary directory), `data` (its data
 * directory) and `configFile` (when started with `config`, the text of a `pyralog.toml`).
 */
export async function startServer({ config } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pyralog-node-'));
  const data = join(dir, 'data');
  const args = ['--data-dir', data, '--listen', '127.0.0.1:0'];
  let configFile;
  if (config !== undefined) {
    configFile = join(dir, 'pyralog.toml');
    writeFileSync(configFile, config);
    args.push('--config', configFile);
  }
  const proc = spawn(serverBinary(), args, {
    stdio: ['ignore', 'pipe', process.env.PYRALOG_TEST_SERVER_LOG ? 'inherit' : 'ignore'],
  });
  const lines = createInterface({ input: proc.stdout });
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('pyralog-server did not start in time')), START_TIMEOUT_MS);
    proc.once('exit', (code) => reject(new Error(`pyralog-server exited with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim().split(' ').pop()); // "listening on ADDR"
    });
  });
  lines.on('line', () => {}); // keep draining stdout
  return {
    addr,
    caFile: join(data, 'tls', 'ca.pem'),
    dir,
    data,
    configFile,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A log or group name used once per run. */
export function unique(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A server and a client connected to it for the tests of one file: started before them,
 * closed after them. The returned object's `client` and `server` are set once started.
 */
export function withClient() {
  const ctx = { server: undefined, client: undefined };
  before(async () => {
    ctx.server = await startServer();
    ctx.client = await Client.connect(ctx.server.addr, { caFile: ctx.server.caFile });
  });
  after(async () => {
    await ctx.client?.close();
    await ctx.server?.stop();
  });
  return ctx;
}
