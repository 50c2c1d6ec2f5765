import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaVersionFromPom } from './jars.js';
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
