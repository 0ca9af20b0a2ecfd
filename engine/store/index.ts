// The store: the Store interface and its implementations. Only engine/runtime imports this.
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store, StoreLocation } from './store.js';

export * from './store.js';
export { contentHash } from './content-hash.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export { APPLICATION_ID, DatabaseError, SCHEMA_VERSION, TEST_SPARE_PAGES_ENV } from './sqlite/database.js';
export { MIGRATIONS } from './sqlite/migrations.js';

/** Opens the store a location names (a worker thread reopens its engine's store this way). */
export function openStore(location: StoreLocation, options: { readonly?: boolean } = {}): Store {
  return new SqliteStore(location.path, { synchronous: location.synchronous, readonly: options.readonly ?? false });
}
