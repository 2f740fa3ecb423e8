/**
 * Feature levels (KIP-584, KIP-1022): what this broker supports and what the cluster has
 * finalized, as ApiVersions v3+ reports them and UpdateFeatures (key 57) changes them.
 *
 * The defaults are those of a Kafka 4.2 cluster formatted with `--standalone` at its latest
 * production metadata.version (4.2-IV1, level 29): kraft.version 1 (a dynamic quorum),
 * transaction.version 2, group.version 1, eligible.leader.replicas.version 1, share.version 1
 * and streams.version 1. A feature whose APIs this broker does not serve yet (share groups,
 * streams groups) is supported only at level 0, so it is neither advertised nor finalized
 * above 0 until its handlers are registered.
 *
 * On disk: `<data dir>/features.json`, `{"version":1,"levels":{"<feature>":<level>}}`, holding
 * only the levels UpdateFeatures set; a feature never set follows its default. Written
 * atomically (write + rename) on every accepted update.
 *
 * Validation follows Kafka's FeatureControlManager: the upgrade type (UPGRADE, SAFE_DOWNGRADE,
 * UNSAFE_DOWNGRADE), the supported range, downgrades only with a downgrade type,
 * metadata.version downgrades only across versions without metadata changes, dependencies
 * between features; the whole request is applied or nothing is (INVALID_UPDATE_VERSION with
 * Kafka's messages).
 *
 * Concurrency: JS thread only; every method runs to completion.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode } from '../protocol/errors';
import { writeFileAtomic } from '../storage/file-io';

export const METADATA_VERSION = 'metadata.version';
export const KRAFT_VERSION = 'kraft.version';
export const TRANSACTION_VERSION = 'transaction.version';

/** metadata.version levels Kafka 4.2 knows, from 3.3-IV3 (7) to 4.2-IV1 (29), with whether each changed the metadata format. */
const MV_NAMES = [
  '3.3-IV3', '3.4-IV0', '3.5-IV0', '3.5-IV1', '3.5-IV2', '3.6-IV0', '3.6-IV1', '3.6-IV2', '3.7-IV0', '3.7-IV1', '3.7-IV2',
  '3.7-IV3', '3.7-IV4', '3.8-IV0', '3.9-IV0', '4.0-IV0', '4.0-IV1', '4.0-IV2', '4.0-IV3', '4.1-IV0', '4.1-IV1', '4.2-IV0', '4.2-IV1',
];
const MV_CHANGED_METADATA = [
  true, true, false, false, true, false, true, true, true, false, true,
  false, false, false, false, false, true, false, false, false, false, false, false,
];
const MV_MIN = 7;
const MV_LATEST = MV_MIN + MV_NAMES.length - 1;

/** UpdateFeatures upgrade types (v1+; v0's allowDowngrade maps to UPGRADE or SAFE_DOWNGRADE). */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

interface FeatureSpec {
  name: string;
  min: number;
  /** Latest production level in Kafka 4.2. */
  max: number;
  /** The level of a fresh 4.2 cluster. */
  defaultLevel: number;
  /** Levels that need other features at a level (Kafka's FeatureVersion.dependencies). */
  dependencies?: (level: number) => Record<string, number | undefined>;
  /** An API key that must be served for levels above 0 to be supported. */
  requiresApi?: number;
}

const FEATURES: FeatureSpec[] = [
  { name: METADATA_VERSION, min: MV_MIN, max: MV_LATEST, defaultLevel: MV_LATEST },
  { name: KRAFT_VERSION, min: 0, max: 1, defaultLevel: 1 },
  { name: TRANSACTION_VERSION, min: 0, max: 2, defaultLevel: 2 },
  { name: 'group.version', min: 0, max: 1, defaultLevel: 1, requiresApi: 68 },
  { name: 'eligible.leader.replicas.version', min: 0, max: 1, defaultLevel: 1, dependencies: (l) => (l >= 1 ? { [METADATA_VERSION]: 24 } : {}) },
  { name: 'share.version', min: 0, max: 1, defaultLevel: 1, requiresApi: 76, dependencies: (l) => (l >= 1 ? { [METADATA_VERSION]: 27 } : {}) },
  { name: 'streams.version', min: 0, max: 1, defaultLevel: 1, requiresApi: 88 },
];

/** Which API keys this node serves (the handler registry). */
export interface ServedApis {
  get(apiKey: number): unknown;
}

export interface FeatureUpdate {
  feature: string;
  level: number;
  upgradeType: number;
}

export interface FeatureUpdateResult {
  errorCode: number;
  errorMessage: string | null;
}

export class FeatureLevels {
  private readonly file: string;
  private levels: Record<string, number> = {};

  constructor(
    dataDir: string,
    /** The node id named in Kafka's "Local controller N ..." messages. */
    private readonly controllerId: number,
    /** Called once an update is applied (the metadata log gains a record). */
    private readonly onChange: () => void = () => undefined,
  ) {
    this.file = path.join(dataDir, 'features.json');
    if (fs.existsSync(this.file)) {
      const stored = readJson(this.file) as { levels?: Record<string, number> };
      for (const [name, level] of Object.entries(stored.levels ?? {})) if (Number.isInteger(level)) this.levels[name] = level;
    }
  }

  /** The range this broker supports per feature (ApiVersions' supported_features); features it cannot enable are left out. */
  supported(apis: ServedApis): { name: string; minVersion: number; maxVersion: number }[] {
    return FEATURES.map((f) => ({ name: f.name, minVersion: f.min, maxVersion: maxOf(f, apis) })).filter((f) => f.maxVersion > 0);
  }

  /** The finalized level of every feature (0 when off). */
  finalized(apis: ServedApis): Map<string, number> {
    const out = new Map<string, number>();
    for (const f of FEATURES) out.set(f.name, Math.min(this.levels[f.name] ?? f.defaultLevel, maxOf(f, apis)));
    return out;
  }

  /** The finalized transaction.version, read on the produce path without building the whole map. */
  transactionVersion(): number {
    return this.levels[TRANSACTION_VERSION] ?? 2;
  }

  level(name: string, apis: ServedApis): number {
    return this.finalized(apis).get(name) ?? 0;
  }

  /**
   * UpdateFeatures: validates every update against the levels as they would be after the
   * whole request, then applies all of them (unless validateOnly) or none.
   */
  update(apis: ServedApis, updates: FeatureUpdate[], validateOnly: boolean): FeatureUpdateResult {
    const current = this.finalized(apis);
    const proposed = new Map(current);
    for (const u of updates) proposed.set(u.feature, u.level);
    for (const u of updates) {
      const message = this.check(apis, u, current, proposed);
      if (message !== null) return { errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: message };
    }
    if (validateOnly || updates.length === 0) return { errorCode: ErrorCode.NONE, errorMessage: null };
    const next = { ...this.levels };
    for (const u of updates) {
      // An unknown feature at level 0 is accepted and changes nothing, as in Kafka.
      if (FEATURES.some((f) => f.name === u.feature)) next[u.feature] = u.level;
    }
    writeFileAtomic(this.file, JSON.stringify({ version: 1, levels: next }) + '\n');
    this.levels = next;
    this.onChange();
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /** Null when the update is valid, else Kafka's message. */
  private check(apis: ServedApis, u: FeatureUpdate, current: Map<string, number>, proposed: Map<string, number>): string | null {
    const invalid = (reason: string) => `Invalid update version ${u.level} for feature ${u.feature}. ${reason}`;
    if (u.upgradeType < UpgradeType.UPGRADE || u.upgradeType > UpgradeType.UNSAFE_DOWNGRADE) {
      return invalid('The controller does not support the given upgrade type.');
    }
    if (u.level < 0) return invalid('A feature version cannot be less than 0.');
    const spec = FEATURES.find((f) => f.name === u.feature);
    if (!spec) return u.level === 0 ? null : invalid(`Local controller ${this.controllerId} does not support this feature.`);
    const max = maxOf(spec, apis);
    if (u.level < spec.min || u.level > max) {
      return invalid(`Local controller ${this.controllerId} only supports versions [${spec.min}-${max}]`);
    }
    const currentLevel = current.get(u.feature) ?? 0;
    if (u.level < currentLevel && u.upgradeType === UpgradeType.UPGRADE) {
      return invalid("Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.");
    }
    if (u.feature === METADATA_VERSION) return this.checkMetadataVersion(u, currentLevel, proposed);
    if (u.feature === KRAFT_VERSION) {
      return u.level < currentLevel ? invalid('Downgrading the kraft.version feature is not supported.') : null;
    }
    const dependency = dependencyError(spec, u.level, proposed);
    return dependency === null ? null : invalid(dependency);
  }

  private checkMetadataVersion(u: FeatureUpdate, currentLevel: number, proposed: Map<string, number>): string | null {
    const invalid = (reason: string) => `Invalid metadata.version ${u.level}. ${reason}`;
    if (u.level < currentLevel) {
      let changed = false;
      for (let l = currentLevel; l > u.level; l--) changed ||= MV_CHANGED_METADATA[l - MV_MIN];
      if (changed) {
        return invalid(
          u.upgradeType === UpgradeType.UNSAFE_DOWNGRADE
            ? 'Unsafe metadata downgrade is not supported in this version.'
            : 'Refusing to perform the requested downgrade because it might delete metadata information.',
        );
      }
    }
    // Features finalized above 0 must still find the metadata.version they depend on.
    for (const f of FEATURES) {
      const message = f.name === METADATA_VERSION ? null : dependencyError(f, proposed.get(f.name) ?? 0, proposed);
      if (message) return invalid(message);
    }
    return null;
  }

  /** metadata.version's release name ("4.2-IV1"), for messages and tools. */
  static metadataVersionName(level: number): string | null {
    return MV_NAMES[level - MV_MIN] ?? null;
  }
}

/** A damaged file stops the start with its name rather than silently resetting levels. */
export function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not readable JSON (${(err as Error).message}); fix or remove it`);
  }
}

function maxOf(f: FeatureSpec, apis: ServedApis): number {
  return f.requiresApi === undefined || apis.get(f.requiresApi) !== undefined ? f.max : 0;
}

function dependencyError(spec: FeatureSpec, level: number, proposed: Map<string, number>): string | null {
  for (const [name, needed] of Object.entries(spec.dependencies?.(level) ?? {})) {
    if (needed === undefined) continue;
    if ((proposed.get(name) ?? 0) < needed) return `${spec.name} could not be set to ${level} because it depends on ${name} level ${needed}`;
  }
  return null;
}
