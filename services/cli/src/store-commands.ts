/**
 * `pathwatch sql` and `pathwatch path`: placeholders until the query API lands.
 */
export function runSql(sql: string): Promise<number> {
  process.stderr.write(`not yet available: ${sql}\n`);
  return Promise.resolve(2);
}

export function runPath(requestId: string | undefined): Promise<number> {
  process.stderr.write(`not yet available: ${requestId ?? ''}\n`);
  return Promise.resolve(2);
}
