// A full garbage collection on demand, so retained-memory deltas measure what is kept, not what is garbage.
import v8 from 'node:v8';
import vm from 'node:vm';

let gcFn: (() => void) | undefined;

export function fullGc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** V8 heap used plus memory outside it held by JS objects (Buffers, typed arrays), after a full GC. */
export function retainedBytes(): number {
  fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
