// node-wasi.mjs FILE.wasm [ARGS...]: run a WASI preview 1 command module with
// node's own WASI (node:wasi), the reference engine of bench/compute.sh.
// Arguments pass through (argv[0] is the file name); no environment and no
// preopened directories; the exit code is the module's.  Node 18 needs
// --experimental-wasi-unstable-preview1, and node 20 may crash after a module
// grew its memory a lot unless run with --no-turbo-fast-api-calls
// (nodejs/node#53087); compute.sh adds both when needed.
import { readFile } from 'node:fs/promises';
import { argv, exit, stderr } from 'node:process';
import { WASI } from 'node:wasi';

if (argv.length < 3) {
    stderr.write('usage: node node-wasi.mjs FILE.wasm [ARGS...]\n');
    exit(2);
}
const file = argv[2];
// `version` is required from node 20 on and refused by early node 18s.
let wasi;
try {
    wasi = new WASI({ version: 'preview1', args: [file, ...argv.slice(3)], env: {}, returnOnExit: true });
} catch {
    wasi = new WASI({ args: [file, ...argv.slice(3)], env: {}, returnOnExit: true });
}
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
exit(wasi.start(instance));
