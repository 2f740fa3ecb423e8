/**
 * The handler registry loads handler modules on first use: ApiVersions' ranges come from the
 * registration, so they must be exactly what each handler module declares. These tests load
 * every registered handler and compare, and check that nothing loads before it is needed.
 */
import { HandlerRegistry, Handler } from '../../src/server/handler-registry';
import { registerAllHandlers } from '../../src/handlers';
import { ApiVersionsApi, MetadataApi } from '../../src/protocol/generated';

const handlerOf = (api: { key: number; minVersion: number; maxVersion: number }, min = api.minVersion): Handler => ({
  apiKey: api.key,
  minVersion: min,
  maxVersion: api.maxVersion,
  handle: () => ({}),
});

test('every registered handler loads and declares the versions it is registered with', () => {
  const registry = new HandlerRegistry();
  registerAllHandlers(registry);
  const versions = registry.versions();
  expect(versions.length).toBeGreaterThan(70);
  for (const v of versions) {
    const api = registry.get(v.apiKey)!;
    const handler = api.handler; // requires the module; throws if its declaration differs
    expect({ apiKey: handler.apiKey, minVersion: handler.minVersion, maxVersion: handler.maxVersion }).toEqual(v);
    expect(typeof handler.handle).toBe('function');
  }
});

test('a lazy handler is required on first access only, and ApiVersions ranges need no load', () => {
  const registry = new HandlerRegistry();
  let loads = 0;
  registry.registerLazy(MetadataApi.key, MetadataApi.minVersion, MetadataApi.maxVersion, () => {
    loads++;
    return handlerOf(MetadataApi);
  });
  expect(registry.versions()).toEqual([{ apiKey: MetadataApi.key, minVersion: MetadataApi.minVersion, maxVersion: MetadataApi.maxVersion }]);
  expect(registry.supports(MetadataApi.key, MetadataApi.maxVersion)).toBe(true);
  expect(registry.supports(MetadataApi.key, MetadataApi.maxVersion + 1)).toBe(false);
  expect(registry.get(MetadataApi.key)!.codec.name).toBe('Metadata');
  expect(loads).toBe(0);
  const first = registry.get(MetadataApi.key)!.handler;
  expect(registry.get(MetadataApi.key)!.handler).toBe(first);
  expect(loads).toBe(1);
});

test('a handler declaring other versions than its registration is refused when loaded', () => {
  const registry = new HandlerRegistry();
  registry.registerLazy(ApiVersionsApi.key, ApiVersionsApi.minVersion, ApiVersionsApi.maxVersion, () => handlerOf(ApiVersionsApi, ApiVersionsApi.minVersion + 1));
  expect(() => registry.get(ApiVersionsApi.key)!.handler).toThrow(/ApiVersions handler declares key 18 v1-/);
  expect(() => registry.registerLazy(MetadataApi.key, 0, MetadataApi.maxVersion + 1, () => handlerOf(MetadataApi))).toThrow(/codec has/);
  registry.register(handlerOf(MetadataApi));
  expect(() => registry.register(handlerOf(MetadataApi))).toThrow(/registered twice/);
});

test('warmUp loads every pending handler over later event-loop turns; stopWarmUp stops it', async () => {
  const loaded: number[] = [];
  const make = (api: { key: number; minVersion: number; maxVersion: number }) => () => {
    loaded.push(api.key);
    return handlerOf(api);
  };
  const registry = new HandlerRegistry();
  registry.registerLazy(MetadataApi.key, MetadataApi.minVersion, MetadataApi.maxVersion, make(MetadataApi));
  registry.registerLazy(ApiVersionsApi.key, ApiVersionsApi.minVersion, ApiVersionsApi.maxVersion, make(ApiVersionsApi));
  registry.warmUp();
  expect(loaded).toEqual([]); // nothing in the caller's turn
  await new Promise((r) => setTimeout(r, 20));
  expect(loaded.sort((a, b) => a - b)).toEqual([MetadataApi.key, ApiVersionsApi.key]);

  const stopped = new HandlerRegistry();
  stopped.registerLazy(MetadataApi.key, MetadataApi.minVersion, MetadataApi.maxVersion, make(MetadataApi));
  loaded.length = 0;
  stopped.warmUp();
  stopped.stopWarmUp();
  await new Promise((r) => setTimeout(r, 20));
  expect(loaded).toEqual([]);
});
