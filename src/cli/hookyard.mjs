#!/usr/bin/env -S node --max-semi-space-size=16
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
//
// Every way of starting it (`npm start`, the shebang above, the image's CMD, the bench) passes
// --max-semi-space-size=16, a flag V8 reads only at start-up. By default V8 lets the young generation
// grow to over 100 MB on a machine with this much memory (the semi-spaces scale with the heap limit),
// which is most of a busy process's memory; capped at 16 MB semi-spaces, three alternating runs each
// of the steady scenario peaked at 204–234 MB instead of 281–327 MB, at 2,449–3,546 deliveries/s
// against 2,401–2,728/s (docs/performance.md). A test keeps the four the same.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { main } = await import('./main.ts');
await main(process.argv.slice(2));
