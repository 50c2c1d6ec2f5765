// Runs one command (the Kafka broker JVM) as its child and makes sure it never outlives the Node process that
// started this watchdog, however that process ends (exit, signal, SIGKILL, crash).
//
// The parent starts us with an IPC channel. The kernel closes that channel when the parent dies, which Node
// reports as 'disconnect'; a changed ppid is checked too. Either way the child gets SIGTERM (a clean broker
// shutdown), then SIGKILL after the grace period. Plain JS on purpose: it must run under bare `node` both
// from TypeScript sources (tests) and from dist.
//
// argv[2]: JSON { command, args, graceMs, removeDirIfOrphaned? }. That dir (a throwaway data dir) is deleted
// after the child exits, but only when the parent is gone: otherwise the parent cleans up itself. Messages to the parent: { type: 'spawned', pid } and { type: 'spawn-error', message }.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import process from 'node:process';
import { clearTimeout, setInterval, setTimeout } from 'node:timers';

const config = JSON.parse(process.argv[2] ?? '{}');
const parentPid = process.ppid;

if (typeof process.send !== 'function' || typeof config.command !== 'string') {
  process.stderr.write('watchdog.mjs: start me with an IPC channel and a JSON config argument\n');
  process.exit(2);
}

function tell(message) {
  if (process.connected) process.send(message, () => undefined);
}

const child = spawn(config.command, config.args ?? [], { stdio: ['ignore', 'inherit', 'inherit'] });
let stopRequested = false;
let orphaned = false;
let killTimer;

function stopChild() {
  if (stopRequested) return;
  stopRequested = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  killTimer = setTimeout(() => child.kill('SIGKILL'), config.graceMs ?? 15_000);
}

function parentGone() {
  orphaned = true;
  stopChild();
}

function removeDir() {
  const dir = config.removeDirIfOrphaned;
  if (orphaned && typeof dir === 'string' && dir !== '') {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a throwaway temp dir left behind is harmless.
    }
  }
}

child.once('spawn', () => tell({ type: 'spawned', pid: child.pid }));
child.once('error', (err) => {
  tell({ type: 'spawn-error', message: err.message, code: err.code });
  removeDir();
  process.exit(127);
});
child.once('exit', (code, signal) => {
  clearTimeout(killTimer);
  removeDir();
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});

process.on('disconnect', parentGone);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stopChild);
setInterval(() => {
  if (process.ppid !== parentPid) parentGone();
}, 1_000);
