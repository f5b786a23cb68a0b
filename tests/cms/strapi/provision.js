// Provision a freshly started Strapi over REST (called by start.sh; Node 18+ for fetch):
// wait for /_health, register the first admin, add the de and fr locales, create a full-access
// API token, and print one JSON object with everything a test needs.
//
// usage: node provision.js <base-url> <strapi-pid>
// env:   WEBHOOK_SECRET (echoed into the JSON), PROVISION_TIMEOUT (seconds, default 120)
'use strict';

const crypto = require('crypto');

const [base, pidArg] = process.argv.slice(2);
const pid = Number(pidArg);
const timeoutMs = Number(process.env.PROVISION_TIMEOUT || 120) * 1000;
const EXTRA_LOCALES = [
  { code: 'de', name: 'German (de)' },
  { code: 'fr', name: 'French (fr)' },
];

function fail(message) {
  process.stderr.write(`provision: ${message}\n`);
  process.exit(6);
}

function alive(p) {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitHealthy() {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(pid)) fail(`Strapi (pid ${pid}) exited before it answered on ${base}`);
    try {
      const r = await fetch(`${base}/_health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 204 || r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail(`no answer from ${base}/_health within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function call(method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const text = await r.text();
  if (!r.ok) fail(`${method} ${path} -> ${r.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : {};
}

async function main() {
  if (!base || !pid) fail('usage: node provision.js <base-url> <strapi-pid>');
  await waitHealthy();

  // register-admin works only while no admin exists: a fresh database every run.
  const admin = {
    firstname: 'Locsync',
    lastname: 'Tests',
    email: 'admin@example.com',
    password: `Aa1-${crypto.randomBytes(12).toString('hex')}`,
  };
  const registered = await call('POST', '/admin/register-admin', admin);
  const adminJwt = registered.data && registered.data.token;
  if (!adminJwt) fail(`register-admin returned no token: ${JSON.stringify(registered).slice(0, 300)}`);
  const adminUser = registered.data.user || {};

  const have = await call('GET', '/i18n/locales', undefined, adminJwt);
  const codes = new Set((Array.isArray(have) ? have : have.data || []).map((l) => l.code));
  for (const locale of EXTRA_LOCALES) {
    if (!codes.has(locale.code)) {
      await call('POST', '/i18n/locales', { ...locale, isDefault: false }, adminJwt);
    }
  }
  const locales = await call('GET', '/i18n/locales', undefined, adminJwt);

  const created = await call(
    'POST',
    '/admin/api-tokens',
    { name: 'locsync', description: 'locsync daemon (tests)', type: 'full-access', lifespan: null },
    adminJwt,
  );
  const apiToken = created.data && created.data.accessKey;
  if (!apiToken) fail(`api-tokens returned no accessKey: ${JSON.stringify(created).slice(0, 300)}`);

  process.stdout.write(
    `${JSON.stringify({
      url: base,
      apiToken,
      apiTokenId: created.data.id,
      adminJwt,
      adminId: adminUser.id,
      adminEmail: admin.email,
      adminPassword: admin.password,
      webhookSecret: process.env.WEBHOOK_SECRET || '',
      locales: (Array.isArray(locales) ? locales : []).map((l) => ({ code: l.code, isDefault: l.isDefault })),
      pid,
    })}\n`,
  );
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
