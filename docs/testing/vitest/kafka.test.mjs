// A test against the broker of samsa-global-setup.mjs, with kafkajs.
import { expect, inject, test } from 'vitest';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

test('produces and consumes through the shared broker', async () => {
  const kafka = new Kafka({ brokers: [inject('kafkaBootstrap')], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic: 'vitest-recipe', messages: [{ value: 'hello from vitest' }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'vitest-recipe' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'vitest-recipe', fromBeginning: true });
  const value = await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value.toString()) });
  });
  await consumer.disconnect();
  expect(value).toBe('hello from vitest');
});
