// A test against the broker of samsa-global-setup.js, with kafkajs.
const { Kafka, logLevel } = require('kafkajs');

test('produces and consumes through the shared broker', async () => {
  const kafka = new Kafka({ brokers: [process.env.KAFKA_BOOTSTRAP], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'jest-recipe', numPartitions: 1 }] });
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'jest-recipe', messages: [{ key: 'k', value: 'hello from jest' }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'jest-recipe' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'jest-recipe', fromBeginning: true });
  const value = await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) });
  });
  await consumer.disconnect();
  expect(value).toBe('hello from jest');
});
