/**
 * Config variables of the health/metrics HTTP server that a service run on its own serves (`pathwatch reconciler`,
 * `pathwatch path-writer`, `pathwatch simulator`; see health-server.ts). Declared once, spread into each service's
 * config spec under its own prefix so every service has its own port.
 */
import { parse, type VarSpec } from './config.js';

/** Default ports: Prometheus exporter range, one per service so they can share a host. */
export const SERVICE_HTTP_PORTS = Object.freeze({
  RECONCILER: 9464,
  PATH_WRITER: 9465,
  SIM: 9466,
} as const);

export type ServiceHttpPrefix = keyof typeof SERVICE_HTTP_PORTS;

const hostPattern = /^[A-Za-z0-9.:-]+$/;

export function serviceHttpVars(
  prefix: ServiceHttpPrefix,
  what: string,
): {
  httpHost: VarSpec<string>;
  httpPort: VarSpec<number>;
  metricsToken: VarSpec<string | undefined>;
} {
  return {
    httpHost: {
      env: `${prefix}_HTTP_HOST`,
      doc: `Interface of the ${what}'s /healthz, /readyz and /metrics when it runs on its own (\`pathwatch ${what.replace(' ', '-')}\`). 0.0.0.0 for a pod's probes and scraping.`,
      default: '127.0.0.1',
      parse: (raw: string): string => {
        if (!hostPattern.test(raw)) throw new Error('must be a host name or IP address');
        return raw;
      },
    },
    httpPort: {
      env: `${prefix}_HTTP_PORT`,
      doc: `Port of the ${what}'s /healthz, /readyz and /metrics when it runs on its own (0: any free port, logged).`,
      default: SERVICE_HTTP_PORTS[prefix],
      parse: parse.int(0, 65_535),
    },
    metricsToken: {
      env: 'PATHWATCH_METRICS_TOKEN',
      doc: 'When set, /metrics of a service run on its own requires `Authorization: Bearer <token>` (/healthz and /readyz stay open). The query API uses QUERY_API_TOKEN.',
      default: undefined,
      optional: true,
      defaultDoc: 'no auth',
      secret: true,
      parse: (raw: string): string => {
        if (raw.length < 16) throw new Error('must be at least 16 characters');
        return raw;
      },
    },
  };
}
