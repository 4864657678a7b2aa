// Client authentication against a second real server started with `[auth] enabled`:
// bearer tokens and client certificates of the superuser admin, refusals
// (AuthenticationFailed, NotAuthorized), an ACL added with the `pyralog` CLI, and
// the retry-after of a Throttled error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { AuthenticationFailed, Client, InvalidArgument, NotAuthorized, PyralogError, Throttled } from '../index.mjs';
import { cliBinary, serverBinary, startServer, unique } from './server.mjs';

const LIMIT = { timeout: 120_000 };
const AUTH_CONFIG = '[auth]\nenabled = true\nsuperusers = ["admin"]\n';
/** How long one run of a program (pyralog-server token|cert, pyralog acl) may take. */
const PROGRAM_TIMEOUT_MS = 30_000;
/** How long an ACL may take to be seen once `pyralog acl add` returned. */
const ACL_VISIBLE_MS = 10_000;

const run = promisify(execFile);

/** Runs a program for at most PROGRAM_TIMEOUT_MS and returns its stdout (no PYRALOG_* settings from the environment). */
async function program(path, args) {
  const env = { ...process.env };
  for (const k of ['PYRALOG_SERVER', 'PYRALOG_CA_FILE', 'PYRALOG_CERT_FILE', 'PYRALOG_KEY_FILE', 'PYRALOG_TOKEN']) {
    delete env[k];
  }
  const { stdout } = await run(path, args, { env, timeout: PROGRAM_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return stdout;
}

/** A `pyralog-server` subcommand on the data and config of server `s`. */
function admin(s, ...args) {
  return program(serverBinary(), [...args, '--data-dir', s.data, ...(s.configFile ? ['--config', s.configFile] : [])]);
}

/** A bearer token for principal `name` (`pyt_NAME_<hex>`). */
async function createToken(s, name) {
  const token = (await admin(s, 'token', 'create', name)).trim();
  assert.match(token, new RegExp(`^pyt_${name}_[0-9a-f]+$`));
  return token;
}

/** Opened clients, closed after the tests. */
const clients = [];

async function connect(s, opts) {
  const c = await Client.connect(s.addr, { caFile: s.caFile, ...opts });
  clients.push(c);
  return c;
}

/** The error of connecting with `opts`, or else of a first request; nothing if both succeed. */
async function firstError(s, opts) {
  try {
    await (await connect(s, opts)).listLogs();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Creates a log, produces a record to it and reads it back. */
async function roundTrip(c, log) {
  await c.createLog(log, 1);
  const md = await c.produce(log, { key: 'k', value: 'authenticated', partition: 0 });
  const records = await c.consumeFromPartition(log, 0, md.offset, 10);
  assert.equal(records.length, 1);
  assert.equal(records[0].key.toString(), 'k');
  assert.equal(records[0].value.toString(), 'authenticated');
}

let server;
let adminToken;

before(async () => {
  server = await startServer({ config: AUTH_CONFIG });
  adminToken = await createToken(server, 'admin');
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

test('a superuser token creates a log, produces and consumes', LIMIT, async () => {
  const c = await connect(server, { token: adminToken });
  await roundTrip(c, unique('nauth-token'));
});

test('a superuser client certificate (mTLS) creates a log, produces and consumes', LIMIT, async () => {
  const out = join(server.dir, 'certs');
  await admin(server, 'cert', 'issue', '--name', 'admin', '--out', out);
  const c = await connect(server, { certFile: join(out, 'admin.pem'), keyFile: join(out, 'admin-key.pem') });
  await roundTrip(c, unique('nauth-cert'));
});

test('a wrong, unknown or no token: AuthenticationFailed; certFile alone: InvalidArgument', LIMIT, async () => {
  // Another last hex digit: a well-formed token that is not admin's.
  const wrong = adminToken.slice(0, -1) + (adminToken.endsWith('0') ? '1' : '0');
  for (const [what, opts] of [
    ['a wrong token', { token: wrong }],
    ['an unknown token', { token: 'pyt_nobody_00' }],
    ['no credentials', {}],
  ]) {
    const e = await firstError(server, opts);
    assert.ok(e instanceof AuthenticationFailed, `${what}: want AuthenticationFailed, got ${e}`);
    assert.ok(e instanceof PyralogError);
    assert.equal(e.code, 700);
    assert.equal(e.name, 'AuthenticationFailed');
    assert.equal(e.retryAfterMs, undefined, `${what}: no wait advised`);
  }
  const out = join(server.dir, 'certs');
  await admin(server, 'cert', 'issue', '--name', 'admin', '--out', out);
  await assert.rejects(
    Client.connect(server.addr, { caFile: server.caFile, certFile: join(out, 'admin.pem') }),
    (e) => {
      assert.ok(e instanceof InvalidArgument, `a certificate without its key: want InvalidArgument, got ${e}`);
      return true;
    },
  );
  await assert.rejects(Client.connect(server.addr, { caFile: server.caFile, token: 7 }), InvalidArgument);
});

test('alice: NotAuthorized without an ACL, produces after `pyralog acl add alice write log:NAME`', LIMIT, async () => {
  const adminClient = await connect(server, { token: adminToken });
  const log = unique('nauth-acl');
  await adminClient.createLog(log, 1);
  const alice = await connect(server, { token: await createToken(server, 'alice') });
  const record = { value: 'from alice', partition: 0 };

  await assert.rejects(alice.produce(log, record), (e) => {
    assert.ok(e instanceof NotAuthorized, `alice without an ACL: want NotAuthorized, got ${e}`);
    assert.equal(e.code, 701);
    assert.match(e.message, /alice/);
    return true;
  });

  const said = await program(cliBinary(), [
    '--server',
    server.addr,
    '--ca-file',
    server.caFile,
    '--token',
    adminToken,
    'acl',
    'add',
    'alice',
    'write',
    `log:${log}`,
  ]);
  assert.match(said, /added/);

  // The rule is in the cluster's metadata once the CLI returns; a single node applies it
  // at once, but allow a moment for it to be visible.
  const deadline = Date.now() + ACL_VISIBLE_MS;
  let md;
  for (;;) {
    try {
      md = await alice.produce(log, record);
      break;
    } catch (e) {
      if (!(e instanceof NotAuthorized) || Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const records = await adminClient.consumeFromPartition(log, 0, md.offset, 1);
  assert.equal(records.length, 1);
  assert.equal(records[0].value.toString(), 'from alice');
  // The rule is for that log only.
  await assert.rejects(alice.createLog(unique('nauth-acl-other'), 1), NotAuthorized);
});

test('Throttled carries retryAfterMs (a second connection over connections_per_principal = 1)', LIMIT, async () => {
  const s = await startServer({ config: `${AUTH_CONFIG}[quotas]\nconnections_per_principal = 1\n` });
  const mine = clients.length;
  try {
    const token = await createToken(s, 'admin');
    await connect(s, { token });
    const e = await firstError(s, { token });
    assert.ok(e instanceof Throttled, `want Throttled, got ${e}`);
    assert.equal(e.code, 702);
    assert.equal(typeof e.retryAfterMs, 'number');
    assert.ok(e.retryAfterMs > 0, `retryAfterMs ${e.retryAfterMs}`);
  } finally {
    await Promise.all(clients.splice(mine).map((c) => c.close()));
    await s.stop();
  }
});
