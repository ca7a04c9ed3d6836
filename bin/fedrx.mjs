#!/usr/bin/env node
// The `fedrx` command. Sources are TypeScript, run through tsx's loader so a checkout works with
// `npm install` alone (no build step to forget).
import { register } from 'tsx/esm/api';

register();
await import('../cli/fedrx.ts');
