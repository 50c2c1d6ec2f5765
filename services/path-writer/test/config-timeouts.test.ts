import { describe, expect, it } from 'vitest';
import { ConfigError } from '@pathwatch/core';
import { loadPathWriterConfig } from '../src/config.js';

describe('path writer consumer timeouts', () => {
  it('default to a 6 s session (like the reconciler), heartbeat and rebalance derived from it', () => {
    const c = loadPathWriterConfig({});
    expect(c.sessionTimeoutMs).toBe(6000);
    expect(c.heartbeatIntervalMs).toBeUndefined();
    expect(c.rebalanceTimeoutMs).toBeUndefined();
    expect(c.stallTimeoutMs).toBe(60_000);
    expect(c.shutdownTimeoutMs).toBe(30_000);
  });

  it('take the variables, and reject inconsistent ones naming each', () => {
    const c = loadPathWriterConfig({
      PATH_WRITER_SESSION_TIMEOUT_MS: '10000',
      PATH_WRITER_HEARTBEAT_INTERVAL_MS: '2000',
      PATH_WRITER_REBALANCE_TIMEOUT_MS: '20000',
    });
    expect([c.sessionTimeoutMs, c.heartbeatIntervalMs, c.rebalanceTimeoutMs]).toEqual([10_000, 2000, 20_000]);
    let err: unknown;
    try {
      loadPathWriterConfig({
        PATH_WRITER_SESSION_TIMEOUT_MS: '6000',
        PATH_WRITER_HEARTBEAT_INTERVAL_MS: '6000',
        PATH_WRITER_REBALANCE_TIMEOUT_MS: '3000',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([
      'PATH_WRITER_HEARTBEAT_INTERVAL_MS',
      'PATH_WRITER_REBALANCE_TIMEOUT_MS',
    ]);
    expect(() => loadPathWriterConfig({ PATH_WRITER_SESSION_TIMEOUT_MS: '500' })).toThrow(ConfigError);
  });
});
