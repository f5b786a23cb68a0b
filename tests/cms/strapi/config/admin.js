// Secrets come from the environment: start.sh makes fresh random ones for every run.
module.exports = ({ env }) => ({
  auth: { secret: env('ADMIN_JWT_SECRET') },
  apiToken: { salt: env('API_TOKEN_SALT') },
  transfer: { token: { salt: env('TRANSFER_TOKEN_SALT') } },
  secrets: { encryptionKey: env('ENCRYPTION_KEY') },
  flags: { nps: false, promoteEE: false },
  // No admin UI: no Vite build is needed and `strapi start` is up in seconds.
  // The admin REST API (/admin/register-admin, /admin/api-tokens, /admin/webhooks) still works.
  serveAdminPanel: false,
});
