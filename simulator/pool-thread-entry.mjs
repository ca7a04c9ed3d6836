// A worker thread does not inherit its parent's TypeScript loader: register tsx here, as
// bin/fedrx.mjs does for the process, then run the site pool's sources.
import { register } from 'tsx/esm/api';

register();
await import('./pool-thread.ts');
