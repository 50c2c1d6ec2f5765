import { describe, expect, it } from 'vitest';
import { ConfigError } from '@pathwatch/core';
import { loadReconcilerConfig, reconcilerAppConfigFrom } from '../src/config.js';

describe('reconciler consumer timeouts', () => {
  it('default to a 6 s session, heartbeat and rebalance derived from it', () => {
    const c = loadReconcilerConfig({});
    expect(c.sessionTimeoutMs).toBe(6000);
    expect(c.heartbeatIntervalMs).toBeUndefined();
    expect(c.rebalanceTimeoutMs).toBeUndefined();
    expect(c.stallTimeoutMs).toBe(30_000);
    expect(c.shutdownTimeoutMs).toBe(30_000);
  });

  it('take the variables, and reject inconsistent ones naming each', () => {
    const c = loadReconcilerConfig({
      RECONCILER_SESSION_TIMEOUT_MS: '10000',
      RECONCILER_HEARTBEAT_INTERVAL_MS: '2000',
      RECONCILER_REBALANCE_TIMEOUT_MS: '20000',
    });
    expect([c.sessionTimeoutMs, c.heartbeatIntervalMs, c.rebalanceTimeoutMs]).toEqual([10_000, 2000, 20_000]);
    let err: unknown;
    try {
      loadReconcilerConfig({
        RECONCILER_SESSION_TIMEOUT_MS: '6000',
        RECONCILER_HEARTBEAT_INTERVAL_MS: '6000',
        RECONCILER_REBALANCE_TIMEOUT_MS: '3000',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable)).toEqual([
      'RECONCILER_HEARTBEAT_INTERVAL_MS',
      'RECONCILER_REBALANCE_TIMEOUT_MS',
    ]);
    expect(() => loadReconcilerConfig({ RECONCILER_SESSION_TIMEOUT_MS: '500' })).toThrow(ConfigError);
  });

  it('reach the wiring through the one config-to-app mapping (the all-in-one runner uses it too)', () => {
    const app = reconcilerAppConfigFrom(
      loadReconcilerConfig({
        RECONCILER_SESSION_TIMEOUT_MS: '10000',
        RECONCILER_HEARTBEAT_INTERVAL_MS: '2000',
        RECONCILER_REBALANCE_TIMEOUT_MS: '20000',
        RECONCILER_STALL_TIMEOUT_MS: '45000',
      }),
    );
    expect(app).toMatchObject({
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 2000,
      rebalanceTimeoutMs: 20_000,
      stallTimeoutMs: 45_000,
    });
    const defaults = reconcilerAppConfigFrom(loadReconcilerConfig({}));
    expect('heartbeatIntervalMs' in defaults).toBe(false);
    expect(defaults.topics.request).toBe('pathwatch.requests');
  });
});
