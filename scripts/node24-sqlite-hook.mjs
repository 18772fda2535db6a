// Under Node 24 (scripts/test-node24.mjs), resolve `better-sqlite3` to the copy built for Node 24's
// ABI in .tools/node24-modules instead of the project's (built for Node 20). Loaded with
// `--import` (also through NODE_OPTIONS, so that child processes of tests get it).
import { register } from 'node:module';

register(new URL('./node24-sqlite-resolve.mjs', import.meta.url));
