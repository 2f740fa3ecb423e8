/** The share-partition state machine on its own: acquisition, acknowledgement, locks, limits, persistence. */
import { AckType, DeliveryState, SharePartition } from '../../../src/coordinator/share/share-partition';
import { ErrorCode } from '../../../src/protocol/errors';

const limits = { lockDurationMs: 1000, deliveryCountLimit: 3 };

describe('SharePartition', () => {
  test('acquires new batches from the end offset, archiving gaps and control batches', () => {
    const sp = new SharePartition(0, 0);
    expect(sp.acquireNew('a', 0, 4, false, 100, 0, limits)).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryCount: 1 }]);
    // Offsets 5-6 missing from the log (compacted), 7 is a transaction marker.
    expect(sp.acquireNew('a', 7, 7, true, 100, 0, limits)).toEqual([]);
    expect(sp.acquireNew('b', 8, 9, false, 100, 0, limits)).toEqual([{ firstOffset: 8, lastOffset: 9, deliveryCount: 1 }]);
    expect(sp.endOffset).toBe(10);
    expect(sp.acknowledge('a', 0, 4, [AckType.ACCEPT], 0, limits)).toBe(ErrorCode.NONE);
    // 0-4 accepted and 5-7 archived: the start offset moves to 8.
    expect(sp.startOffset).toBe(8);
  });

  test('a gap with nothing in flight moves the start offset instead of holding slots', () => {
    const sp = new SharePartition(0, 0);
    sp.acquireNew('a', 1_000_000, 1_000_001, false, 100, 0, limits);
    expect(sp.startOffset).toBe(1_000_000);
    expect(sp.inFlight).toBe(2);
  });

  test('only the member holding a record may acknowledge it; nothing changes on refusal', () => {
    const sp = new SharePartition(0, 0);
    sp.acquireNew('a', 0, 2, false, 100, 0, limits);
    expect(sp.acknowledge('b', 0, 0, [AckType.ACCEPT], 0, limits)).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(sp.acknowledge('a', 0, 3, [AckType.ACCEPT], 0, limits)).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(sp.acknowledge('a', 0, 2, [AckType.ACCEPT, AckType.ACCEPT], 0, limits)).toBe(ErrorCode.INVALID_REQUEST);
    expect(sp.acknowledge('a', 0, 0, [9], 0, limits)).toBe(ErrorCode.INVALID_REQUEST);
    expect(sp.startOffset).toBe(0);
    expect(sp.acknowledge('a', 0, 2, [AckType.ACCEPT, AckType.REJECT, AckType.RELEASE], 0, limits)).toBe(ErrorCode.NONE);
    expect(sp.startOffset).toBe(2);
    expect(sp.acknowledge('a', 0, 0, [AckType.ACCEPT], 0, limits)).toBe(ErrorCode.INVALID_RECORD_STATE);
  });

  test('expired locks make records available until the delivery limit archives them', () => {
    const sp = new SharePartition(0, 0);
    sp.acquireNew('a', 0, 0, false, 100, 0, limits);
    expect(sp.nextLockExpiry()).toBe(1000);
    expect(sp.expireLocks(999, limits)).toBe(false);
    expect(sp.expireLocks(1000, limits)).toBe(true);
    expect(sp.acquireInFlight('b', 0, 0, 10, 1000, limits)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
    sp.expireLocks(2000, limits);
    expect(sp.acquireInFlight('b', 0, 0, 10, 2000, limits)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 3 }]);
    sp.expireLocks(3000, limits);
    expect(sp.hasAvailable()).toBe(false);
    expect(sp.startOffset).toBe(1);
  });

  test('renew extends the lock; releasing a member frees what it holds', () => {
    const sp = new SharePartition(0, 0);
    sp.acquireNew('a', 0, 1, false, 100, 0, limits);
    expect(sp.acknowledge('a', 0, 0, [AckType.RENEW], 800, limits)).toBe(ErrorCode.NONE);
    sp.expireLocks(1000, limits);
    expect(sp.persisted().stateBatches).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryState: DeliveryState.AVAILABLE, deliveryCount: 1 }]);
    expect(sp.acquireInFlight('b', 0, 1, 10, 1000, limits)).toEqual([{ firstOffset: 1, lastOffset: 1, deliveryCount: 2 }]);
    expect(sp.releaseMember('a', limits)).toBe(true);
    expect(sp.acquireInFlight('b', 0, 1, 10, 1000, limits)).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
  });

  test('persisted state round-trips; acquired records come back available with their counts', () => {
    const sp = new SharePartition(10, 2);
    sp.acquireNew('a', 10, 14, false, 100, 0, limits);
    sp.acknowledge('a', 12, 13, [AckType.ACCEPT, AckType.REJECT], 0, limits);
    const saved = sp.persisted();
    expect(saved).toEqual({
      stateEpoch: 2,
      startOffset: 10,
      stateBatches: [
        { firstOffset: 10, lastOffset: 11, deliveryState: DeliveryState.AVAILABLE, deliveryCount: 1 },
        { firstOffset: 12, lastOffset: 12, deliveryState: DeliveryState.ACKNOWLEDGED, deliveryCount: 1 },
        { firstOffset: 13, lastOffset: 13, deliveryState: DeliveryState.ARCHIVED, deliveryCount: 1 },
        { firstOffset: 14, lastOffset: 14, deliveryState: DeliveryState.AVAILABLE, deliveryCount: 1 },
      ],
    });
    const back = SharePartition.fromPersisted(saved);
    expect(back.endOffset).toBe(15);
    expect(back.doneInFlight()).toBe(2);
    expect(back.acquireInFlight('b', 10, 14, 10, 0, limits)).toEqual([
      { firstOffset: 10, lastOffset: 11, deliveryCount: 2 },
      { firstOffset: 14, lastOffset: 14, deliveryCount: 2 },
    ]);
  });

  test('the log start moving past in-flight records drops them', () => {
    const sp = new SharePartition(0, 0);
    sp.acquireNew('a', 0, 9, false, 100, 0, limits);
    expect(sp.followLogStart(5)).toBe(true);
    expect(sp.startOffset).toBe(5);
    expect(sp.inFlight).toBe(5);
    expect(sp.followLogStart(3)).toBe(false);
  });
});
