import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadedBytes, kafkaVersionFromPom } from './jars.js';
import { defaultKafkaAssetsDir } from './paths.js';

describe('kafkaVersionFromPom', () => {
  it('reads the pinned version from the repository pom', () => {
    const pom = readFileSync(path.join(defaultKafkaAssetsDir(), 'pom.xml'), 'utf8');
    expect(kafkaVersionFromPom(pom)).toMatch(/^4\.\d+\.\d+$/);
  });

  it('fails clearly when the property is missing', () => {
    expect(() => kafkaVersionFromPom('<project></project>')).toThrow(/kafka\.version/);
  });
});

describe('downloadedBytes', () => {
  it('reads the size of finished Maven transfers', () => {
    expect(
      downloadedBytes(
        '[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/a/b/1/b-1.pom (18 kB at 122 kB/s)',
      ),
    ).toBe(18_000);
    expect(downloadedBytes('[INFO] Downloaded from my-mirror: https://m/x.jar (1.5 MB at 3.4 MB/s)')).toBe(
      1_500_000,
    );
    expect(downloadedBytes('[INFO] Downloaded from central: https://m/x.pom (812 B at 20 kB/s)')).toBe(812);
  });

  it('ignores other lines and counts unknown sizes as 0', () => {
    expect(downloadedBytes('[INFO] Downloading from central: https://m/x.jar')).toBeUndefined();
    expect(downloadedBytes('[INFO] Copying kafka_2.13-4.1.2.jar to /x')).toBeUndefined();
    expect(downloadedBytes('[INFO] Downloaded from central: https://m/x.jar')).toBe(0);
  });
});
