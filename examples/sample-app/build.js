// `npm run build`: writes what the server shows about its build. Nothing to compile.
const { writeFileSync } = require('node:fs');

const info = { builtAt: new Date().toISOString(), node: process.version };
writeFileSync('build-info.json', `${JSON.stringify(info, null, 2)}\n`);
console.log(`build: wrote build-info.json (${info.builtAt})`);
