module.exports = ({ env }) => ({
  host: env('HOST', '127.0.0.1'),
  port: env.int('PORT', 1337),
  app: { keys: env.array('APP_KEYS') },
  // start.sh points this into the run's temporary folder (the upload plugin needs <public>/uploads)
  dirs: { public: env('STRAPI_PUBLIC_DIR', './public') },
  // no update check against the registry at start
  logger: { updates: { enabled: false } },
  // Strapi does not sign webhook requests: a static shared header is the only authentication.
  webhooks: { defaultHeaders: { 'X-Hook-Secret': env('WEBHOOK_SECRET', '') } },
});
