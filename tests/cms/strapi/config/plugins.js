// i18n is built into Strapi 5; its default locale is `en`. start.sh adds `de` and `fr` over REST.
module.exports = () => ({});
