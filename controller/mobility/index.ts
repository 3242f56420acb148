// Endpoints, locators, bindings (store / service / events / persistence) and move detection.

export * from './binding.js';
export * from './binding-json.js';
export * from './binding-ledger.js';
export * from './binding-registry.js';
export * from './binding-store.js';
export * from './file-repository.js';
export * from './locator-pool.js';
export * from './lost-search.js';
export * from './migration-intents.js';
export * from './move-detector.js';
export * from './prefix.js';
export * from './repository.js';
export * from './sighting.js';
export * from './state-dir-lock.js';
export * from './store-format.js';
export * from './store-reader.js';
export * from './subnet.js';
export * from './store-migration.js';
