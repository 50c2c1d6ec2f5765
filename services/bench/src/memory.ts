// Memory figures: this process (RSS, V8 heap) sampled for peaks, and other processes through /proc (Linux).
import { readFileSync } from 'node:fs';

export const MiB = 2 ** 20;

export interface ProcMemory {
  /** Resident set size now. */
  readonly rssBytes: number;
  /** Peak resident set size since the process started (VmHWM). */
  readonly peakRssBytes: number;
}

/** RSS and peak RSS of a process from /proc/<pid>/status; null when it is gone or /proc is missing. */
export function procMemory(pid: number): ProcMemory | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string): number =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

export interface MemoryPeaks {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Outside the V8 heap: Buffers and ArrayBuffers (arena pages, Kafka batches). */
  readonly arrayBuffersBytes: number;
}

/** Samples this process's memory every `intervalMs` and keeps the peaks; `stop()` returns them. */
export function sampleOwnMemory(intervalMs = 100): { stop(): MemoryPeaks; peek(): MemoryPeaks } {
  let rss = 0;
  let heap = 0;
  let ab = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
    ab = Math.max(ab, m.arrayBuffers);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  const peek = (): MemoryPeaks => ({ rssBytes: rss, heapUsedBytes: heap, arrayBuffersBytes: ab });
  return {
    peek,
    stop() {
      clearInterval(timer);
      sample();
      return peek();
    },
  };
}

/** Peak RSS of a child process, polled (VmHWM is kept by the kernel, so polling only needs to see it alive). */
export function watchProcMemory(pid: number, intervalMs = 250): { stop(): ProcMemory | null } {
  let last: ProcMemory | null = procMemory(pid);
  const timer = setInterval(() => {
    last = procMemory(pid) ?? last;
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      last = procMemory(pid) ?? last;
      return last;
    },
  };
}

export function mib(bytes: number | null | undefined): number | null {
  return bytes === null || bytes === undefined || !Number.isFinite(bytes) ? null : bytes / MiB;
}
