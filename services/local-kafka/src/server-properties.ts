/** Fixed, as Testcontainers does: the data dir is throwaway or owned by this machine, so no uniqueness needed. */
export const LOCAL_KAFKA_CLUSTER_ID = '4L6g3nShT-eMCtK--X86sw';

/** Always 127.0.0.1, never `localhost`: clients that try ::1 first fail against an IPv4-only listener. */
export const LOCAL_KAFKA_HOST = '127.0.0.1';

export interface ServerPropertiesInput {
  readonly brokerPort: number;
  readonly controllerPort: number;
  /** Where the broker keeps partitions and the metadata log (`log.dirs`). */
  readonly logDir: string;
  /** Extra or replacing `server.properties` entries. */
  readonly overrides?: Readonly<Record<string, string>>;
}

/**
 * `server.properties` for one combined broker+controller node (KRaft). Static voter set, so a plain
 * `StorageTool format` works (no --standalone). Internal topics get replication factor 1 and one partition:
 * the defaults (RF 3, min ISR 2) cannot be met by one node, and fewer partitions start faster.
 */
export function renderServerProperties(input: ServerPropertiesInput): string {
  const { brokerPort, controllerPort } = input;
  const props = new Map<string, string>([
    ['process.roles', 'broker,controller'],
    ['node.id', '1'],
    ['controller.quorum.voters', `1@${LOCAL_KAFKA_HOST}:${controllerPort}`],
    [
      'listeners',
      `PLAINTEXT://${LOCAL_KAFKA_HOST}:${brokerPort},CONTROLLER://${LOCAL_KAFKA_HOST}:${controllerPort}`,
    ],
    ['advertised.listeners', `PLAINTEXT://${LOCAL_KAFKA_HOST}:${brokerPort}`],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['controller.listener.names', 'CONTROLLER'],
    ['listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
    ['log.dirs', input.logDir],
    // single node: internal topics
    ['offsets.topic.replication.factor', '1'],
    ['offsets.topic.num.partitions', '1'],
    ['transaction.state.log.replication.factor', '1'],
    ['transaction.state.log.min.isr', '1'],
    ['transaction.state.log.num.partitions', '1'],
    ['share.coordinator.state.topic.replication.factor', '1'],
    ['share.coordinator.state.topic.min.isr', '1'],
    ['share.coordinator.state.topic.num.partitions', '1'],
    // fast group joins in tests; small footprint
    ['group.initial.rebalance.delay.ms', '0'],
    ['log.cleaner.dedupe.buffer.size', '2097152'],
    ['num.partitions', '1'],
    ['default.replication.factor', '1'],
    ['min.insync.replicas', '1'],
    ['auto.create.topics.enable', 'true'],
    ['num.network.threads', '2'],
    ['num.io.threads', '4'],
  ]);
  for (const [key, value] of Object.entries(input.overrides ?? {})) {
    if (!/^[a-z0-9._-]+$/i.test(key) || /[\r\n]/.test(value)) {
      throw new RangeError(
        `invalid server.properties override ${JSON.stringify(key)}=${JSON.stringify(value)}`,
      );
    }
    props.set(key, value);
  }
  // Backslashes are escapes in .properties files (Windows paths).
  return `${[...props].map(([k, v]) => `${k}=${v.replaceAll('\\', '\\\\')}`).join('\n')}\n`;
}
