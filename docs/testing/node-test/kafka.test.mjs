// Node's test runner (node --test): a broker per test file, started in before() and stopped
// in after(), which also removes its temporary data folder. Starting one takes well under a
// second; Node 20 has no run-wide global setup.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startEphemeralBroker } from 'samsa';

const { Kafka, logLevel } = kafkajs;
let broker;

before(async () => {
  broker = await startEphemeralBroker();
});

after(async () => {
  await broker.close();
});

test('produces and consumes', async () => {
  const kafka = new Kafka({ brokers: [`${broker.config.host}:${broker.port}`], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic: 'node-test-recipe', messages: [{ value: 'hello from node:test' }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'node-test-recipe' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'node-test-recipe', fromBeginning: true });
  const value = await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) });
  });
  await consumer.disconnect();
  assert.equal(value, 'hello from node:test');
});
