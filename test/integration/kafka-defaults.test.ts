/**
 * `--kafka-defaults` switches Samsa's deliberately different defaults back to Kafka's, and
 * flags given on the command line still win; read back through DescribeConfigs.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

async function brokerValues(broker: BrokerProcess, names: string[]): Promise<Record<string, string>> {
  const c = await RawClient.connect(broker.port);
  try {
    const r = await c.request(32, 4, { resources: [{ resourceType: 4, resourceName: '1', configurationKeys: names }], includeSynonyms: false, includeDocumentation: false });
    return Object.fromEntries(r.body.results[0].configs.map((x: { name: string; value: string }) => [x.name, x.value]));
  } finally {
    c.close();
  }
}

const NAMES = ['group.initial.rebalance.delay.ms', 'offsets.topic.num.partitions'];

test.each([
  [[], { 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '10' }],
  [['--kafka-defaults'], { 'group.initial.rebalance.delay.ms': '3000', 'offsets.topic.num.partitions': '50' }],
  [['--kafka-defaults', '--group-initial-rebalance-delay-ms', '250'], { 'group.initial.rebalance.delay.ms': '250', 'offsets.topic.num.partitions': '50' }],
  [['--kafka-defaults', '--override', 'offsets.topic.num.partitions=3'], { 'group.initial.rebalance.delay.ms': '3000', 'offsets.topic.num.partitions': '3' }],
])('serve %j', async (args, expected) => {
  const broker = await startBrokerProcess({ args });
  try {
    expect(await brokerValues(broker, NAMES)).toEqual(expected);
  } finally {
    await broker.stop();
  }
});
