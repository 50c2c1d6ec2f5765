// Measures the local broker: jar fetch (warm ~/.m2, and cold with an empty Maven repository when --cold is
// given), format + start-to-ready, and memory. Needs a build: npm run build -w @pathwatch/local-kafka
//   node services/local-kafka/bench/measure.mjs [--cold] [--starts N]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { defaultKafkaAssetsDir, ensureKafkaJars, startLocalKafka } from '@pathwatch/local-kafka';
import { Kafka, logLevel } from 'kafkajs';

const args = process.argv.slice(2);
const cold = args.includes('--cold');
const starts = Number(args[args.indexOf('--starts') + 1] || 3);

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** A copy of infra/kafka without libs/, so ensureKafkaJars must run Maven. */
function freshAssetsDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'pathwatch-assets-'));
  for (const f of ['pom.xml', 'log4j2.properties'])
    cpSync(path.join(defaultKafkaAssetsDir(), f), path.join(dir, f));
  return dir;
}

const results = {};
{
  const dir = freshAssetsDir();
  const jars = await ensureKafkaJars({ assetsDir: dir });
  results.fetchWarmM2Ms = jars.durationMs;
  results.jarCount = jars.jarCount;
  results.jarsMb = Number(execFileSync('du', ['-sm', jars.libsDir]).toString().split('\t')[0]);
  rmSync(dir, { recursive: true, force: true });
}
if (cold) {
  const dir = freshAssetsDir();
  const repo = mkdtempSync(path.join(tmpdir(), 'pathwatch-m2-'));
  let downloaded = 0;
  const jars = await ensureKafkaJars({
    assetsDir: dir,
    mavenRepoLocal: repo,
    onProgress: (p) => (downloaded = p.artifactsDownloaded ?? downloaded),
  });
  results.fetchColdMs = jars.durationMs;
  results.coldRepoMb = Number(execFileSync('du', ['-sm', repo]).toString().split('\t')[0]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
}
const jars = await ensureKafkaJars();
results.cachedCheckMs = jars.durationMs;

results.starts = [];
for (let i = 0; i < starts; i++) {
  const t0 = Date.now();
  const kafka = await startLocalKafka({ jars });
  const total = Date.now() - t0;
  const idleRssMb = rssMb(kafka.pid);
  // Some load: 20k small messages, then RSS again.
  const client = new Kafka({ clientId: 'measure', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const producer = client.producer();
  await producer.connect();
  for (let b = 0; b < 20; b++) {
    await producer.send({
      topic: 'measure',
      messages: Array.from({ length: 1000 }, (_, j) => ({ value: `m${b}-${j}` })),
    });
  }
  await producer.disconnect();
  const loadedRssMb = rssMb(kafka.pid);
  const watchdogRssMb = rssMb(kafka.watchdogPid);
  const s0 = Date.now();
  await kafka.stop();
  results.starts.push({
    formatPlusStartMs: total,
    spawnToReadyMs: kafka.readyMs,
    idleRssMb: Math.round(idleRssMb),
    afterLoadRssMb: Math.round(loadedRssMb),
    watchdogRssMb: Math.round(watchdogRssMb),
    stopMs: Date.now() - s0,
  });
}
console.log(JSON.stringify(results, null, 2));
