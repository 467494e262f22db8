#!/usr/bin/env node
// The `parley` command as npm links it (package.json "bin"). Plain JavaScript that any Node
// parses, so that an older Node says what is wrong instead of ERR_UNKNOWN_FILE_EXTENSION:
// Parley runs its TypeScript directly, which needs Node 24 (type stripping). Then bin/parley.ts.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `parley: needs Node.js ${REQUIRED_MAJOR} or newer, and this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      `In a clone, \`npm start\`, \`npm run …\` and \`npx parley …\` use the Node ${REQUIRED_MAJOR} the project installs ` +
      `(node_modules/.bin/node); elsewhere install Node.js ${REQUIRED_MAJOR} (https://nodejs.org) or use the container image.\n`,
  );
  process.exit(1);
}
await import('./parley.ts');
