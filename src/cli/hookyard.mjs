#!/usr/bin/env node
// The `hookyard` executable: what `npm start`, the package's bin and the image's CMD run. The
// commands are in main.ts; this file only turns on Node's module compile cache before importing them.
//
// With the cache on, the type stripping and V8's compilation of the program's modules happen once
// per version of the code instead of on every start, and a start whose modules are all in the cache
// never loads the stripper (a WebAssembly compiler): about 18 MB less resident memory for the life of
// the process (148 MB against 166 MB at rest), and a faster start. This file is plain JavaScript
// because an entry in TypeScript would load the stripper before the cache could be turned on.
//
// The cache lives in NODE_COMPILE_CACHE if set, else in the OS temporary directory; where neither can
// be written Node carries on without it, and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { main } = await import('./main.ts');
await main(process.argv.slice(2));
