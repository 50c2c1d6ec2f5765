import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localKafkaToolsFromEnv } from './config.js';

describe('localKafkaToolsFromEnv', () => {
  it('uses PATH lookups by default', () => {
    expect(localKafkaToolsFromEnv({})).toEqual({ javaPath: 'java', mavenPath: 'mvn' });
  });

  it('follows JAVA_HOME and MAVEN_HOME; blank counts as unset', () => {
    expect(localKafkaToolsFromEnv({ JAVA_HOME: '/opt/jdk', MAVEN_HOME: ' ' })).toEqual({
      javaPath: path.join('/opt/jdk', 'bin', 'java'),
      mavenPath: 'mvn',
    });
  });
});
