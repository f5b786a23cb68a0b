const path = require('path');

// SQLite only; start.sh points DATABASE_FILENAME into a fresh temporary folder for every run.
module.exports = ({ env }) => ({
  connection: {
    client: 'sqlite',
    connection: { filename: path.resolve(env('DATABASE_FILENAME', '.tmp/data.db')) },
    useNullAsDefault: true,
  },
});
