/**
 * FeatureLevels (src/cluster/features.ts) on its own: levels of a feature whose APIs are not
 * served stay at 0, dependencies between features, whole-request validation, and a damaged
 * features.json stopping the start with the file's name.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FeatureLevels, UpgradeType } from '../../src/cluster/features';
import { ErrorCode } from '../../src/protocol/errors';

const ALL_APIS = { get: () => ({}) };
const NO_GROUP_APIS = { get: (key: number) => (key === 68 || key === 76 || key === 88 ? undefined : {}) };

describe('FeatureLevels', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-features-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('features whose APIs are not served are neither supported nor finalized above 0', () => {
    const f = new FeatureLevels(dir, 1);
    expect(f.supported(NO_GROUP_APIS).map((x) => x.name)).not.toEqual(expect.arrayContaining(['group.version']));
    expect(f.finalized(NO_GROUP_APIS).get('share.version')).toBe(0);
    expect(f.finalized(ALL_APIS).get('share.version')).toBe(1);
    const r = f.update(NO_GROUP_APIS, [{ feature: 'share.version', level: 1, upgradeType: UpgradeType.UPGRADE }], false);
    expect(r).toEqual({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: 'Invalid update version 1 for feature share.version. Local controller 1 only supports versions [0-0]' });
  });

  test('dependencies: share.version 1 needs metadata.version 27, checked against the levels after the whole request', () => {
    const f = new FeatureLevels(dir, 1);
    const down = (level: number) => ({ feature: 'metadata.version', level, upgradeType: UpgradeType.SAFE_DOWNGRADE });
    // 29 -> 26 crosses no metadata change, but share.version 1 depends on 27.
    expect(f.update(ALL_APIS, [down(26)], false)).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION });
    // Lowering share.version in the same request makes it valid.
    expect(f.update(ALL_APIS, [down(26), { feature: 'share.version', level: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], false).errorCode).toBe(0);
    expect(f.finalized(ALL_APIS).get('metadata.version')).toBe(26);
    expect(f.update(ALL_APIS, [{ feature: 'share.version', level: 1, upgradeType: UpgradeType.UPGRADE }], false)).toEqual({
      errorCode: ErrorCode.INVALID_UPDATE_VERSION,
      errorMessage: 'Invalid update version 1 for feature share.version. share.version could not be set to 1 because it depends on metadata.version level 27',
    });
    // Levels persist; a new instance reads them.
    expect(new FeatureLevels(dir, 1).finalized(ALL_APIS).get('metadata.version')).toBe(26);
  });

  test('validate_only and refused requests leave the file untouched; an update calls onChange once', () => {
    let changes = 0;
    const f = new FeatureLevels(dir, 1, () => changes++);
    const file = path.join(dir, 'features.json');
    expect(f.update(ALL_APIS, [{ feature: 'group.version', level: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], true).errorCode).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    expect(f.update(ALL_APIS, [{ feature: 'kraft.version', level: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], false).errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(fs.existsSync(file)).toBe(false);
    expect(changes).toBe(0);
    expect(f.update(ALL_APIS, [{ feature: 'group.version', level: 0, upgradeType: UpgradeType.SAFE_DOWNGRADE }], false).errorCode).toBe(0);
    expect(changes).toBe(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ version: 1, levels: { 'group.version': 0 } });
  });

  test('a damaged features.json stops the start and names the file', () => {
    fs.writeFileSync(path.join(dir, 'features.json'), '{"levels": ');
    expect(() => new FeatureLevels(dir, 1)).toThrow(/features\.json is not readable JSON/);
  });
});
