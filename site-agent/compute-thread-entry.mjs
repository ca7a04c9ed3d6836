// A worker thread does not inherit its parent's TypeScript loader: register tsx here, as
// bin/fedrx.mjs does for the agent process, then run the compute thread's sources.
import { register } from 'tsx/esm/api';

register();
await import('./compute-thread.ts');
