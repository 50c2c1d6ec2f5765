/**
 * Errors of @pathwatch/path-store.
 */
import { PathwatchError } from '@pathwatch/core';

/**
 * A path-store (ClickHouse) operation failed. Codes: CORE_STORE_UNAVAILABLE (retriable: server, network, disk or
 * memory may recover), CORE_STORE_QUERY_FAILED, CORE_STORE_MIGRATION_CHANGED (an applied migration was edited),
 * CORE_STORE_MIGRATION_UNKNOWN (the database is newer than this code), CORE_STORE_DATA_DIR_LOCKED,
 * CORE_STORE_SQL_REJECTED (analyst SQL that is not read-only), CORE_STORE_INVALID_ROW.
 */
export class StoreError extends PathwatchError {}
