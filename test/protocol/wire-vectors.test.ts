/**
 * Byte vectors derived by hand from the Kafka protocol guide and message definitions
 * (https://kafka.apache.org/protocol, clients/src/main/resources/common/message/*.json),
 * not from our encoder. Each vector must decode to the expected object, consume every
 * byte, and the expected object must encode back to exactly the vector.
 *
 * They sit on the flexible/non-flexible boundaries: from the first flexible version on,
 * strings, bytes and arrays use uvarint lengths (length+1, 0 = null) and every struct and
 * message ends with a tagged-field section (uvarint count, then tag, size, value).
 *
 * Fields a version does not carry appear in the expected objects with their defaults.
 */
import {
  API_VERSIONS_KEY,
  isFlexible,
  readHeaderRest,
  readHeaderStart,
  RequestHeader,
  responseHeaderVersion,
  writeRequestHeader,
  writeResponseHeader,
} from '../../src/protocol/headers';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';
import { Writer } from '../../src/protocol/writer';
import { INT64_MAX_AS_NUMBER, Kind, ZERO_UUID, codecOf, decodeMessage, encodeMessage } from '../helpers/codec-samples';
import { hex, utf8Hex } from '../helpers/codec-hex';

const EMPTY = Buffer.alloc(0);

function vector(key: number, kind: Kind, version: number, bytes: Buffer, expected: Record<string, unknown>): void {
  it('decodes', () => {
    const { msg, consumed } = decodeMessage(key, kind, version, bytes);
    expect(msg).toStrictEqual(expected);
    expect(consumed).toBe(bytes.length);
  });
  it('encodes', () => {
    expect(encodeMessage(key, kind, version, expected).toString('hex')).toBe(bytes.toString('hex'));
  });
}

// ---------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------

describe('request header', () => {
  const header: RequestHeader = { apiKey: 3, apiVersion: 8, correlationId: 7, clientId: 'samsa' };

  function decodeHeader(bytes: Buffer, flexible: boolean): { header: RequestHeader; consumed: number } {
    const r = new Reader(bytes);
    const start = readHeaderStart(r);
    const clientId = readHeaderRest(r, flexible);
    return { header: { ...start, clientId }, consumed: r.pos };
  }

  function encodeHeader(h: RequestHeader, flexible: boolean): string {
    const w = new Writer();
    writeRequestHeader(w, h, flexible);
    return w.toBuffer().toString('hex');
  }

  const cases: [string, RequestHeader, boolean, Buffer][] = [
    [
      'v1 (Metadata v8)',
      header,
      false,
      hex`
        0003          # api_key 3 (Metadata)
        0008          # api_version 8
        00000007      # correlation_id 7
        0005 73616d7361  # client_id "samsa" (int16 length)
      `,
    ],
    [
      'v2 (Metadata v9): client_id stays a non-compact string, then tagged fields',
      { ...header, apiVersion: 9 },
      true,
      hex`
        0003          # api_key 3
        0009          # api_version 9
        00000007      # correlation_id 7
        0005 73616d7361  # client_id "samsa": int16 length even in header v2
        00            # tagged fields: none
      `,
    ],
    [
      'v1 with a null client_id',
      { ...header, clientId: null },
      false,
      hex`
        0003 0008 00000007
        ffff          # client_id null: int16 -1
      `,
    ],
    [
      'v2 with a null client_id',
      { ...header, apiVersion: 9, clientId: null },
      true,
      hex`
        0003 0009 00000007
        ffff          # client_id null: still int16 -1, not compact 0
        00            # tagged fields: none
      `,
    ],
  ];

  describe.each(cases)('%s', (_, h, flexible, bytes) => {
    it('decodes', () => {
      expect(decodeHeader(bytes, flexible)).toStrictEqual({ header: h, consumed: bytes.length });
    });
    it('encodes', () => {
      expect(encodeHeader(h, flexible)).toBe(bytes.toString('hex'));
    });
  });

  it('v2 skips tagged fields it does not know', () => {
    const bytes = hex`
      0003 0009 00000007
      0005 73616d7361   # client_id "samsa"
      02                # 2 tagged fields
        00 01 ff        #   tag 0, size 1
        05 03 616263    #   tag 5, size 3
      ff                # first byte of the body
    `;
    expect(decodeHeader(bytes, true)).toStrictEqual({ header: { ...header, apiVersion: 9 }, consumed: bytes.length - 1 });
  });

  it('isFlexible follows each API flexibleFrom', () => {
    const metadata = API_CODECS[3]!;
    expect(isFlexible(metadata, 8)).toBe(false);
    expect(isFlexible(metadata, 9)).toBe(true);
    expect(isFlexible(API_CODECS[60]!, 0)).toBe(true);
    expect(isFlexible({ flexibleFrom: null }, 5)).toBe(false);
  });
});

describe('response header', () => {
  it('ApiVersions responses always use header v0, even when flexible', () => {
    expect(API_VERSIONS_KEY).toBe(18);
    expect(responseHeaderVersion(18, true)).toBe(0);
    expect(responseHeaderVersion(18, false)).toBe(0);
  });

  it('other APIs use v1 exactly when flexible', () => {
    expect(responseHeaderVersion(3, true)).toBe(1);
    expect(responseHeaderVersion(3, false)).toBe(0);
    expect(responseHeaderVersion(60, true)).toBe(1);
  });

  it('v0 is the correlation id; v1 adds an empty tagged-field section', () => {
    const v0 = new Writer();
    writeResponseHeader(v0, 42, 0);
    expect(v0.toBuffer().toString('hex')).toBe('0000002a');
    const v1 = new Writer();
    writeResponseHeader(v1, -2, 1);
    expect(v1.toBuffer().toString('hex')).toBe('fffffffe00');
  });
});

// ---------------------------------------------------------------------------------------
// ApiVersions (18): flexible from v3
// ---------------------------------------------------------------------------------------

describe('ApiVersions request v2 (non-flexible, empty body)', () => {
  vector(18, 'request', 2, EMPTY, { clientSoftwareName: '', clientSoftwareVersion: '' });
});

describe('ApiVersions request v3 (compact strings, tagged fields)', () => {
  vector(
    18,
    'request',
    3,
    hex`
      06 73616d7361   # client_software_name "samsa": uvarint 5+1
      04 312e30       # client_software_version "1.0": uvarint 3+1
      00              # tagged fields: none
    `,
    { clientSoftwareName: 'samsa', clientSoftwareVersion: '1.0' },
  );
});

describe('ApiVersions request v3 with a 200-byte string (uvarint length >= 128)', () => {
  vector(
    18,
    'request',
    3,
    hex`
      c9 01           # uvarint 201 = 0x49|0x80, 0x01
      ${'61'.repeat(200)}  # 200 x 'a'
      01              # client_software_version "": uvarint 0+1
      00              # tagged fields
    `,
    { clientSoftwareName: 'a'.repeat(200), clientSoftwareVersion: '' },
  );
});

describe('full ApiVersions v3 request frame: header v2 + body', () => {
  const frame = hex`
    0012          # api_key 18
    0003          # api_version 3
    0000002b      # correlation_id 43
    0003 636c69   # client_id "cli" (non-compact)
    00            # header tagged fields
    06 73616d7361 # client_software_name "samsa"
    04 312e30     # client_software_version "1.0"
    00            # body tagged fields
  `;
  it('decodes header then body', () => {
    const r = new Reader(frame);
    const start = readHeaderStart(r);
    expect(start).toStrictEqual({ apiKey: 18, apiVersion: 3, correlationId: 43 });
    const codec = codecOf(start.apiKey);
    expect(readHeaderRest(r, isFlexible(codec, start.apiVersion))).toBe('cli');
    expect(codec.decodeRequest[start.apiVersion]!(r)).toStrictEqual({ clientSoftwareName: 'samsa', clientSoftwareVersion: '1.0' });
    expect(r.pos).toBe(frame.length);
  });
  it('encodes header then body', () => {
    const w = new Writer();
    writeRequestHeader(w, { apiKey: 18, apiVersion: 3, correlationId: 43, clientId: 'cli' }, true);
    codecOf(18).encodeRequest[3]!(w, { clientSoftwareName: 'samsa', clientSoftwareVersion: '1.0' });
    expect(w.toBuffer().toString('hex')).toBe(frame.toString('hex'));
  });
});

const apiVersionsResponseDefaults = {
  supportedFeatures: [],
  finalizedFeaturesEpoch: -1,
  finalizedFeatures: [],
  zkMigrationReady: false,
};

describe('ApiVersions response v2', () => {
  vector(
    18,
    'response',
    2,
    hex`
      0000            # error_code 0
      00000002        # api_keys: int32 count 2
        0000 0000 000d  #   Produce 0..13
        0012 0000 0004  #   ApiVersions 0..4
      00000064        # throttle_time_ms 100
    `,
    {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 13 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 100,
      ...apiVersionsResponseDefaults,
    },
  );
});

describe('ApiVersions response v3', () => {
  vector(
    18,
    'response',
    3,
    hex`
      0000            # error_code 0
      03              # api_keys: uvarint 2+1
        0000 0000 000d 00  #   Produce 0..13, tagged fields
        0012 0000 0004 00  #   ApiVersions 0..4, tagged fields
      00000064        # throttle_time_ms 100
      00              # tagged fields: none
    `,
    {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 13 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 100,
      ...apiVersionsResponseDefaults,
    },
  );
});

describe('ApiVersions response v3 with tagged fields 0, 1 and 3', () => {
  vector(
    18,
    'response',
    3,
    hex`
      0023            # error_code 35 UNSUPPORTED_VERSION
      01              # api_keys: empty (uvarint 0+1)
      00000000        # throttle_time_ms 0
      03              # 3 tagged fields, in tag order
        00 17         #   tag 0 supported_features, size 23
          02          #     1 feature
          11 6d657461646174612e76657273696f6e  # name "metadata.version" (16+1)
          0001 001b   #     min_version 1, max_version 27
          00          #     tagged fields
        01 08         #   tag 1 finalized_features_epoch, size 8
          0000000000000005
        03 01         #   tag 3 zk_migration_ready, size 1
          01          #     true
    `,
    {
      errorCode: 35,
      apiKeys: [],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 27 }],
      finalizedFeaturesEpoch: 5,
      finalizedFeatures: [],
      zkMigrationReady: true,
    },
  );
});

// ---------------------------------------------------------------------------------------
// Metadata (3): flexible from v9
// ---------------------------------------------------------------------------------------

const metadataRequest = {
  topics: [{ topicId: ZERO_UUID, name: 'foo' }],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: true,
  includeTopicAuthorizedOperations: true,
};

describe('Metadata request v8', () => {
  vector(
    3,
    'request',
    8,
    hex`
      00000001        # topics: int32 count 1
        0003 666f6f   #   name "foo"
      00              # allow_auto_topic_creation false
      01              # include_cluster_authorized_operations true
      01              # include_topic_authorized_operations true
    `,
    metadataRequest,
  );
});

describe('Metadata request v9', () => {
  vector(
    3,
    'request',
    9,
    hex`
      02              # topics: uvarint 1+1
        04 666f6f     #   name "foo": uvarint 3+1
        00            #   tagged fields
      00 01 01        # allow_auto_topic_creation, include_cluster_..., include_topic_...
      00              # tagged fields
    `,
    metadataRequest,
  );
});

const allTopics = {
  topics: null,
  allowAutoTopicCreation: true,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

describe('Metadata request v8 with a null topics array (int32 -1)', () => {
  vector(
    3,
    'request',
    8,
    hex`
      ffffffff        # topics: null = all topics
      01 00 00
    `,
    allTopics,
  );
});

describe('Metadata request v9 with a null topics array (uvarint 0)', () => {
  vector(
    3,
    'request',
    9,
    hex`
      00              # topics: null
      01 00 00
      00              # tagged fields
    `,
    allTopics,
  );
});

// ---------------------------------------------------------------------------------------
// Produce (0): flexible from v9
// ---------------------------------------------------------------------------------------

const RECORDS = Buffer.from('deadbeef', 'hex'); // opaque to the codec

function produceRequest(transactionalId: string | null, records: Buffer | null) {
  return {
    transactionalId,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: 'foo', topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
  };
}

describe('Produce request v8: records as int32-length bytes, null transactional id', () => {
  vector(
    0,
    'request',
    8,
    hex`
      ffff            # transactional_id null: int16 -1
      ffff            # acks -1
      00007530        # timeout_ms 30000
      00000001        # topic_data: 1
        0003 666f6f   #   name "foo"
        00000001      #   partition_data: 1
          00000000    #     index 0
          00000004 deadbeef  # records: int32 length 4
    `,
    produceRequest(null, RECORDS),
  );
});

describe('Produce request v9: records as compact bytes, null transactional id', () => {
  vector(
    0,
    'request',
    9,
    hex`
      00              # transactional_id null: uvarint 0
      ffff            # acks -1
      00007530        # timeout_ms 30000
      02              # topic_data: uvarint 1+1
        04 666f6f     #   name "foo"
        02            #   partition_data: 1
          00000000    #     index 0
          05 deadbeef #     records: uvarint 4+1
          00          #     tagged fields
        00            #   tagged fields
      00              # tagged fields
    `,
    produceRequest(null, RECORDS),
  );
});

describe('Produce request v8: null records', () => {
  vector(
    0,
    'request',
    8,
    hex`
      0002 7478       # transactional_id "tx"
      ffff 00007530
      00000001 0003 666f6f
      00000001 00000000
      ffffffff        # records null: int32 -1
    `,
    produceRequest('tx', null),
  );
});

describe('Produce request v9: null records', () => {
  vector(
    0,
    'request',
    9,
    hex`
      03 7478         # transactional_id "tx": uvarint 2+1
      ffff 00007530
      02 04 666f6f
      02 00000000
      00              # records null: uvarint 0
      00 00 00
    `,
    produceRequest('tx', null),
  );
});

describe('Produce request v9: 300 bytes of records (uvarint length >= 128)', () => {
  const records = Buffer.alloc(300, 0xab);
  vector(
    0,
    'request',
    9,
    hex`
      00 ffff 00007530
      02 04 666f6f
      02 00000000
      ad 02           # uvarint 301 = 0x2d|0x80, 0x02
      ${'ab'.repeat(300)}
      00 00 00
    `,
    produceRequest(null, records),
  );
});

describe('Produce response v10 with tagged current_leader (tag 0) and node_endpoints (tag 0)', () => {
  vector(
    0,
    'response',
    10,
    hex`
      02              # responses: 1
        04 666f6f     #   name "foo"
        02            #   partition_responses: 1
          00000000    #     index 0
          0006        #     error_code 6 NOT_LEADER_OR_FOLLOWER
          ffffffffffffffff  # base_offset -1
          ffffffffffffffff  # log_append_time_ms -1
          ffffffffffffffff  # log_start_offset -1
          01          #     record_errors: empty
          00          #     error_message null
          01          #     1 tagged field
            00 09     #       tag 0 current_leader, size 9
            00000002  #         leader_id 2
            00000007  #         leader_epoch 7
            00        #         tagged fields
        00            #   tagged fields
      00000000        # throttle_time_ms 0
      01              # 1 tagged field
        00 15         #   tag 0 node_endpoints, size 21
          02          #     1 endpoint
          00000002    #     node_id 2
          0a ${utf8Hex('localhost')}  # host "localhost"
          00002384    #     port 9092
          00          #     rack null
          00          #     tagged fields
    `,
    {
      responses: [
        {
          name: 'foo',
          topicId: ZERO_UUID,
          partitionResponses: [
            {
              index: 0,
              errorCode: 6,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'localhost', port: 9092, rack: null }],
    },
  );
});

describe('Produce response v10 without tagged fields', () => {
  vector(
    0,
    'response',
    10,
    hex`
      02 04 666f6f
        02 00000000 0000
          0000000000000064  # base_offset 100
          0000018bcfe56800  # log_append_time_ms 1700000000000
          0000000000000000  # log_start_offset 0
          01 00
          00          #     no tagged fields: current_leader stays null
        00
      00000000
      00              # no tagged fields: node_endpoints stays empty
    `,
    {
      responses: [
        {
          name: 'foo',
          topicId: ZERO_UUID,
          partitionResponses: [
            {
              index: 0,
              errorCode: 0,
              baseOffset: 100,
              logAppendTimeMs: 1700000000000,
              logStartOffset: 0,
              recordErrors: [],
              errorMessage: null,
              currentLeader: null,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    },
  );
});

// ---------------------------------------------------------------------------------------
// Fetch (1): flexible from v12
// ---------------------------------------------------------------------------------------

function fetchRequest(version: 11 | 12, clusterId: string | null) {
  return {
    clusterId,
    replicaId: -1,
    replicaState: null,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52428800,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'foo',
        topicId: ZERO_UUID,
        partitions: [
          {
            partition: 2,
            currentLeaderEpoch: 7,
            fetchOffset: 100,
            lastFetchedEpoch: version === 12 ? 6 : -1,
            logStartOffset: -1,
            partitionMaxBytes: 1048576,
            replicaDirectoryId: ZERO_UUID,
            highWatermark: INT64_MAX_AS_NUMBER, // default Long.MAX_VALUE
          },
        ],
      },
    ],
    forgottenTopicsData: [{ topic: 'bar', topicId: ZERO_UUID, partitions: [1, 3] }],
    rackId: 'rack-a',
  };
}

describe('Fetch request v11', () => {
  vector(
    1,
    'request',
    11,
    hex`
      ffffffff        # replica_id -1
      000001f4        # max_wait_ms 500
      00000001        # min_bytes 1
      03200000        # max_bytes 52428800
      01              # isolation_level 1 READ_COMMITTED
      00000000        # session_id 0
      ffffffff        # session_epoch -1
      00000001        # topics: 1
        0003 666f6f   #   topic "foo"
        00000001      #   partitions: 1
          00000002    #     partition 2
          00000007    #     current_leader_epoch 7
          0000000000000064  # fetch_offset 100
          ffffffffffffffff  # log_start_offset -1
          00100000    #     partition_max_bytes 1048576
      00000001        # forgotten_topics_data: 1
        0003 626172   #   topic "bar"
        00000002 00000001 00000003  # partitions [1, 3]
      0006 7261636b2d61  # rack_id "rack-a"
    `,
    fetchRequest(11, null),
  );
});

describe('Fetch request v12', () => {
  vector(
    1,
    'request',
    12,
    hex`
      ffffffff 000001f4 00000001 03200000 01 00000000 ffffffff
      02              # topics: uvarint 1+1
        04 666f6f     #   topic "foo"
        02            #   partitions: 1
          00000002    #     partition 2
          00000007    #     current_leader_epoch 7
          0000000000000064  # fetch_offset 100
          00000006    #     last_fetched_epoch 6 (new in v12)
          ffffffffffffffff  # log_start_offset -1
          00100000    #     partition_max_bytes
          00          #     tagged fields
        00            #   tagged fields
      02              # forgotten_topics_data: 1
        04 626172     #   topic "bar"
        03 00000001 00000003  # partitions [1, 3]: uvarint 2+1
        00            #   tagged fields
      07 7261636b2d61 # rack_id "rack-a"
      00              # tagged fields: none (cluster_id null is the default)
    `,
    fetchRequest(12, null),
  );
});

describe('Fetch request v12 with cluster_id (tag 0)', () => {
  vector(
    1,
    'request',
    12,
    hex`
      ffffffff 000001f4 00000001 03200000 01 00000000 ffffffff
      02 04 666f6f 02 00000002 00000007 0000000000000064 00000006 ffffffffffffffff 00100000 00 00
      02 04 626172 03 00000001 00000003 00
      07 7261636b2d61
      01              # 1 tagged field
        00            #   tag 0 cluster_id
        0a            #   size 10
        0a 636c75737465722d31  # compact nullable string "cluster-1"
    `,
    fetchRequest(12, 'cluster-1'),
  );
});

// ---------------------------------------------------------------------------------------
// CreateTopics (19): flexible from v5
// ---------------------------------------------------------------------------------------

const createTopicsRequest = {
  topics: [
    {
      name: 'foo',
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
      configs: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'retention.ms', value: null },
      ],
    },
  ],
  timeoutMs: 30000,
  validateOnly: false,
};

describe('CreateTopics request v4', () => {
  vector(
    19,
    'request',
    4,
    hex`
      00000001        # topics: 1
        0003 666f6f   #   name "foo"
        ffffffff      #   num_partitions -1
        ffff          #   replication_factor -1
        00000001      #   assignments: 1
          00000000    #     partition_index 0
          00000002 00000001 00000002  # broker_ids [1, 2]
        00000002      #   configs: 2
          000e 636c65616e75702e706f6c696379  # name "cleanup.policy"
          0007 636f6d70616374                # value "compact"
          000c 726574656e74696f6e2e6d73      # name "retention.ms"
          ffff                               # value null
      00007530        # timeout_ms 30000
      00              # validate_only false
    `,
    createTopicsRequest,
  );
});

describe('CreateTopics request v5', () => {
  vector(
    19,
    'request',
    5,
    hex`
      02              # topics: 1
        04 666f6f     #   name "foo"
        ffffffff ffff #   num_partitions -1, replication_factor -1
        02            #   assignments: 1
          00000000    #     partition_index 0
          03 00000001 00000002  # broker_ids [1, 2]
          00          #     tagged fields
        03            #   configs: 2
          0f 636c65616e75702e706f6c696379  # "cleanup.policy"
          08 636f6d70616374                # "compact"
          00                               # tagged fields
          0d 726574656e74696f6e2e6d73      # "retention.ms"
          00                               # value null
          00                               # tagged fields
        00            #   tagged fields
      00007530        # timeout_ms
      00              # validate_only
      00              # tagged fields
    `,
    createTopicsRequest,
  );
});

describe('CreateTopics request v5 with 127 broker ids (compact count 128 = 80 01)', () => {
  const ids = Array.from({ length: 127 }, (_, i) => i);
  const idsHex = ids.map((i) => i.toString(16).padStart(8, '0')).join('');
  vector(
    19,
    'request',
    5,
    hex`
      02 04 666f6f 00000001 0001
        02 00000000
          80 01       # broker_ids: uvarint 127+1 = 128
          ${idsHex}
          00
        01            # configs: empty
        00
      00007530 01 00
    `,
    {
      topics: [{ name: 'foo', numPartitions: 1, replicationFactor: 1, assignments: [{ partitionIndex: 0, brokerIds: ids }], configs: [] }],
      timeoutMs: 30000,
      validateOnly: true,
    },
  );
});

describe('CreateTopics response v4', () => {
  vector(
    19,
    'response',
    4,
    hex`
      00000000        # throttle_time_ms 0
      00000001        # topics: 1
        0003 666f6f   #   name "foo"
        0024          #   error_code 36 TOPIC_ALREADY_EXISTS
        0006 657869737473  # error_message "exists"
    `,
    {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'foo',
          topicId: ZERO_UUID,
          errorCode: 36,
          errorMessage: 'exists',
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: [],
        },
      ],
    },
  );
});

describe('CreateTopics response v5 with topic_config_error_code (tag 0)', () => {
  vector(
    19,
    'response',
    5,
    hex`
      00000000        # throttle_time_ms 0
      02              # topics: 1
        04 666f6f     #   name "foo"
        0000          #   error_code 0
        00            #   error_message null
        00000003      #   num_partitions 3
        0001          #   replication_factor 1
        02            #   configs: 1
          0f 636c65616e75702e706f6c696379  # name "cleanup.policy"
          08 636f6d70616374                # value "compact"
          01          #     read_only true
          05          #     config_source 5 DEFAULT_CONFIG
          00          #     is_sensitive false
          00          #     tagged fields
        01            #   1 tagged field
          00 02       #     tag 0 topic_config_error_code, size 2
          0028        #     40 INVALID_CONFIG
      00              # tagged fields
    `,
    {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'foo',
          topicId: ZERO_UUID,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 40,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [{ name: 'cleanup.policy', value: 'compact', readOnly: true, configSource: 5, isSensitive: false }],
        },
      ],
    },
  );
});

// ---------------------------------------------------------------------------------------
// ListOffsets (2): flexible from v6
// ---------------------------------------------------------------------------------------

const listOffsetsRequest = {
  replicaId: -1,
  isolationLevel: 0,
  topics: [
    {
      name: 'foo',
      partitions: [
        { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 },
        { partitionIndex: 1, currentLeaderEpoch: 3, timestamp: -2, maxNumOffsets: 1 },
      ],
    },
  ],
  timeoutMs: 0,
};

describe('ListOffsets request v5', () => {
  vector(
    2,
    'request',
    5,
    hex`
      ffffffff        # replica_id -1
      00              # isolation_level 0
      00000001        # topics: 1
        0003 666f6f   #   name "foo"
        00000002      #   partitions: 2
          00000000 ffffffff ffffffffffffffff  # index 0, current_leader_epoch -1, timestamp -1 (latest)
          00000001 00000003 fffffffffffffffe  # index 1, current_leader_epoch 3, timestamp -2 (earliest)
    `,
    listOffsetsRequest,
  );
});

describe('ListOffsets request v6', () => {
  vector(
    2,
    'request',
    6,
    hex`
      ffffffff 00
      02              # topics: 1
        04 666f6f     #   name "foo"
        03            #   partitions: 2
          00000000 ffffffff ffffffffffffffff 00  # ..., tagged fields
          00000001 00000003 fffffffffffffffe 00
        00            #   tagged fields
      00              # tagged fields
    `,
    listOffsetsRequest,
  );
});

const listOffsetsResponse = {
  throttleTimeMs: 0,
  topics: [
    {
      name: 'foo',
      partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [], timestamp: 1700000000000, offset: 42, leaderEpoch: 5 }],
    },
  ],
};

describe('ListOffsets response v5', () => {
  vector(
    2,
    'response',
    5,
    hex`
      00000000        # throttle_time_ms
      00000001 0003 666f6f
        00000001
          00000000    # partition_index 0
          0000        # error_code 0
          0000018bcfe56800  # timestamp 1700000000000
          000000000000002a  # offset 42
          00000005    # leader_epoch 5
    `,
    listOffsetsResponse,
  );
});

describe('ListOffsets response v6', () => {
  vector(
    2,
    'response',
    6,
    hex`
      00000000
      02 04 666f6f
        02
          00000000 0000 0000018bcfe56800 000000000000002a 00000005
          00          # tagged fields
        00
      00
    `,
    listOffsetsResponse,
  );
});

// ---------------------------------------------------------------------------------------
// DescribeCluster (60): flexible from v0
// ---------------------------------------------------------------------------------------

describe('DescribeCluster request v0 (flexible from v0)', () => {
  vector(
    60,
    'request',
    0,
    hex`
      01              # include_cluster_authorized_operations true
      00              # tagged fields
    `,
    { includeClusterAuthorizedOperations: true, endpointType: 1, includeFencedBrokers: false },
  );
});

describe('DescribeCluster response v0', () => {
  vector(
    60,
    'response',
    0,
    hex`
      00000000        # throttle_time_ms 0
      0000            # error_code 0
      00              # error_message null
      0a 636c75737465722d31  # cluster_id "cluster-1"
      00000001        # controller_id 1
      02              # brokers: 1
        00000001      #   broker_id 1
        0a ${utf8Hex('localhost')}  # host
        00002384      #   port 9092
        00            #   rack null
        00            #   tagged fields
      80000000        # cluster_authorized_operations INT32_MIN (not requested)
      00              # tagged fields
    `,
    {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'cluster-1',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'localhost', port: 9092, rack: null, isFenced: false }],
      clusterAuthorizedOperations: -2147483648,
    },
  );
});

// ---------------------------------------------------------------------------------------
// Tagged fields in nested structs, nullable structs, uint16, float64, unknown tags
// ---------------------------------------------------------------------------------------

const UUID_ONE = 'AAAAAAAAAAAAAAAAAAAAAQ'; // 00 x 15, 01: 20 x 'A' (120 zero bits), 'A', '01'+'0000' = 'Q'
const UUID_ALL_ONES = '_____________________w'; // ff x 16: 21 x 63 = '_', then '11'+'0000' = 'w'

function fetchRequestV18(replicaDirectoryId: string, highWatermark: number) {
  return {
    clusterId: null,
    replicaId: -1, // v0-14 only
    replicaState: { replicaId: 1, replicaEpoch: 2 },
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52428800,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: '', // v0-12 only
        topicId: UUID_ONE,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: 7,
            fetchOffset: 100,
            lastFetchedEpoch: 6,
            logStartOffset: -1,
            partitionMaxBytes: 1048576,
            replicaDirectoryId,
            highWatermark,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

describe('Fetch request v18 with tagged fields in a nested struct (uuid tag 0, int64 tag 1)', () => {
  vector(
    1,
    'request',
    18,
    hex`
      000001f4 00000001 03200000  # max_wait_ms, min_bytes, max_bytes
      00 00000000 ffffffff        # isolation_level 0, session_id 0, session_epoch -1
      02                          # topics: 1
        00000000000000000000000000000001  # topic_id
        02                        #   partitions: 1
          00000000 00000007       #     partition 0, current_leader_epoch 7
          0000000000000064        #     fetch_offset 100
          00000006                #     last_fetched_epoch 6
          ffffffffffffffff        #     log_start_offset -1
          00100000                #     partition_max_bytes
          02                      #     2 tagged fields
            00 10 ffffffffffffffffffffffffffffffff  # tag 0 replica_directory_id, size 16
            01 08 00000000000003e8                  # tag 1 high_watermark 1000, size 8
        00                        #   tagged fields
      01                          # forgotten_topics_data: empty
      01                          # rack_id ""
      01                          # 1 tagged field
        01 0d                     #   tag 1 replica_state, size 13
          00000001                #     replica_id 1
          0000000000000002        #     replica_epoch 2
          00                      #     tagged fields
    `,
    fetchRequestV18(UUID_ALL_ONES, 1000),
  );
});

describe('Fetch request v18: tagged fields equal to their defaults (zero uuid, Long.MAX_VALUE) are not sent', () => {
  vector(
    1,
    'request',
    18,
    hex`
      000001f4 00000001 03200000 00 00000000 ffffffff
      02 00000000000000000000000000000001
        02 00000000 00000007 0000000000000064 00000006 ffffffffffffffff 00100000
          00                      #     no tagged fields
        00
      01 01
      01 01 0d 00000001 0000000000000002 00
    `,
    fetchRequestV18(ZERO_UUID, INT64_MAX_AS_NUMBER),
  );
});

describe('DescribeTopicPartitions request v0 with a nullable struct (int8 1 = present)', () => {
  vector(
    75,
    'request',
    0,
    hex`
      02 04 666f6f 00   # topics: [{name "foo"}]
      000007d0          # response_partition_limit 2000
      01                # cursor: present
        04 666f6f       #   topic_name "foo"
        00000005        #   partition_index 5
        00              #   tagged fields
      00
    `,
    { topics: [{ name: 'foo' }], responsePartitionLimit: 2000, cursor: { topicName: 'foo', partitionIndex: 5 } },
  );
});

describe('DescribeTopicPartitions request v0 with a null struct (int8 -1)', () => {
  vector(
    75,
    'request',
    0,
    hex`
      01                # topics: empty
      00000001          # response_partition_limit 1
      ff                # cursor: null
      00
    `,
    { topics: [], responsePartitionLimit: 1, cursor: null },
  );
});

function addRaftVoter(ackWhenCommitted: boolean) {
  return {
    clusterId: null,
    timeoutMs: 30000,
    voterId: 3,
    voterDirectoryId: UUID_ONE,
    listeners: [{ name: 'CONTROLLER', host: 'localhost', port: 65535 }],
    ackWhenCommitted,
  };
}

describe('AddRaftVoter request v0 (uint16 port)', () => {
  vector(
    80,
    'request',
    0,
    hex`
      00                # cluster_id null
      00007530          # timeout_ms 30000
      00000003          # voter_id 3
      00000000000000000000000000000001  # voter_directory_id
      02                # listeners: 1
        0b 434f4e54524f4c4c4552  # name "CONTROLLER"
        0a ${utf8Hex('localhost')}
        ffff            #   port 65535 (uint16)
        00
      00
    `,
    addRaftVoter(true),
  );
});

describe('AddRaftVoter request v1', () => {
  vector(
    80,
    'request',
    1,
    hex`
      00 00007530 00000003 00000000000000000000000000000001
      02 0b 434f4e54524f4c4c4552 0a ${utf8Hex('localhost')} ffff 00
      00                # ack_when_committed false
      00
    `,
    addRaftVoter(false),
  );
});

const clientQuotas = {
  throttleTimeMs: 0,
  errorCode: 0,
  errorMessage: null,
  entries: [{ entity: [{ entityType: 'user', entityName: 'alice' }], values: [{ key: 'rate', value: 1.5 }] }],
};

describe('DescribeClientQuotas response v0 (float64)', () => {
  vector(
    48,
    'response',
    0,
    hex`
      00000000 0000     # throttle_time_ms, error_code
      ffff              # error_message null
      00000001          # entries: 1
        00000001        #   entity: 1
          0004 75736572 #     entity_type "user"
          0005 616c696365  #  entity_name "alice"
        00000001        #   values: 1
          0004 72617465 #     key "rate"
          3ff8000000000000  # value 1.5 (IEEE 754)
    `,
    clientQuotas,
  );
});

describe('DescribeClientQuotas response v1', () => {
  vector(
    48,
    'response',
    1,
    hex`
      00000000 0000
      00                # error_message null
      02
        02 05 75736572 06 616c696365 00
        02 05 72617465 3ff8000000000000 00
        00
      00
    `,
    clientQuotas,
  );
});

describe('unknown tagged fields are skipped', () => {
  it('in a message (ApiVersions response v3)', () => {
    const bytes = hex`
      0000 01 00000000
      03                # 3 tagged fields
        01 08 0000000000000009  # tag 1 finalized_features_epoch 9
        07 03 aabbcc            # tag 7: unknown, skipped
        1f 00                   # tag 31: unknown, empty
    `;
    expect(decodeMessage(18, 'response', 3, bytes)).toStrictEqual({
      msg: { errorCode: 0, apiKeys: [], throttleTimeMs: 0, ...apiVersionsResponseDefaults, finalizedFeaturesEpoch: 9 },
      consumed: bytes.length,
    });
  });

  it('in a nested struct (Metadata request v9)', () => {
    const bytes = hex`
      02 04 666f6f
        01 05 02 0000   # 1 tagged field: tag 5, size 2
      01 00 00
      02 00 00 0a 01 ff # 2 tagged fields: tag 0 size 0, tag 10 size 1
    `;
    expect(decodeMessage(3, 'request', 9, bytes)).toStrictEqual({
      msg: { ...allTopics, topics: [{ topicId: ZERO_UUID, name: 'foo' }] },
      consumed: bytes.length,
    });
  });

  it('in a message that has no tagged fields of its own (ListOffsets request v6)', () => {
    const bytes = hex`
      ffffffff 00 01    # replica_id, isolation_level, topics: empty
      01 00 04 deadbeef # tag 0, size 4
    `;
    expect(decodeMessage(2, 'request', 6, bytes)).toStrictEqual({
      msg: { replicaId: -1, isolationLevel: 0, topics: [], timeoutMs: 0 },
      consumed: bytes.length,
    });
  });
});
