// The node cache behind `ctx.cache`: answers a node type recorded, keyed by the sha-256 of the
// node type and the canonical JSON of the key the node gives, kept in the store (bounded there).
// Nodes never see the store; a failing cache is a miss, never a failed node.
import { createHash } from 'node:crypto';
import { redactValue } from '../credentials/index.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { Logger, NodeCache } from '../sdk/index.js';
import { RESPONSE_CACHE_LIMIT, type Store } from '../store/index.js';

export type CacheStore = Pick<Store, 'cacheGet' | 'cachePut'>;

/** The hash a value is kept under: the node type and the key, so two types never share entries. */
export function cacheKeyOf(nodeType: string, key: unknown): string {
  return createHash('sha256')
    .update(`${nodeType}\0${canonicalJson(key)}`)
    .digest('hex');
}

/** `secrets`: the credential values the activation read: taken out of what is kept (a model may echo a key). */
export function nodeCache(
  store: CacheStore,
  nodeType: string,
  now: () => number,
  logger: Logger,
  secrets: () => readonly string[],
): NodeCache {
  return {
    async get(key) {
      try {
        const json = await store.cacheGet(cacheKeyOf(nodeType, key), now());
        return json === undefined ? undefined : (JSON.parse(json) as unknown);
      } catch (error) {
        logger.warn('the node cache could not be read', { nodeType, error: String(error) });
        return undefined;
      }
    },
    async put(key, value) {
      const json = JSON.stringify(redactValue(value, secrets()));
      // A value too large to be worth keeping is simply not kept (the bound on the table's size).
      if (json === undefined || Buffer.byteLength(json, 'utf8') > RESPONSE_CACHE_LIMIT.valueBytes) return;
      try {
        await store.cachePut(cacheKeyOf(nodeType, key), json, now(), RESPONSE_CACHE_LIMIT.entries);
      } catch (error) {
        logger.warn('the node cache could not be written', { nodeType, error: String(error) });
      }
    },
  };
}
