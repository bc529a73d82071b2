// Writes docs/errors.md from the single error-code table (run after `npm run build`).
// test/docs/errors-doc.test.ts fails when the page and the table drift apart.
import { writeFileSync } from 'node:fs';
import { errorCodes } from '../dist/protocol/error-codes.js';

const rows = Object.entries(errorCodes)
  .map(([code, info]) => `| \`${code}\` | ${info.status} | ${info.description} |`)
  .join('\n');

const page = `# Error codes

Every error imagewire sends or raises has a stable camelCase \`code\`, in the wire's own style
(\`invalidApiKey\` comes from the protocol itself). The table is generated from
\`src/protocol/error-codes.ts\`, the only place codes are defined (\`node scripts/errors-doc.mjs\`).

On the wire an error is an item of \`{"errors":[...]}\`:
\`{code, message, parameter, type, taskType, taskUUID}\` (see [protocol.md](protocol.md)). The status is
the HTTP status \`POST /v1\` answers with when that error is the first one. In the client, errors
from the server become \`ApiError\` (or \`AuthenticationError\` for authentication codes) carrying the
same \`code\`; see [client.md](client.md) for the client's own classes and codes.

| Code | HTTP status | Meaning |
| --- | --- | --- |
${rows}
`;

writeFileSync(new URL('../docs/errors.md', import.meta.url), page);
console.log(`docs/errors.md: ${Object.keys(errorCodes).length} codes`);
