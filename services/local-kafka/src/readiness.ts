import { Kafka, logLevel } from 'kafkajs';

/**
 * Resolves once a metadata request through kafkajs succeeds, i.e. clients really can use the broker;
 * rejects with the last error once `deadline` (epoch ms) passes.
 */
export async function waitForMetadata(brokers: string[], deadline: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'pathwatch-local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: 0 },
  });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
