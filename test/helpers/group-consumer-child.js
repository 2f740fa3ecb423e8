/**
 * A kafkajs group consumer in its own process, so a test can kill it (SIGKILL) the way a
 * consumer crashes: no LeaveGroup, its session simply stops. Plain JavaScript so that it runs
 * without compilation. Environment: SAMSA_BROKER, GROUP, TOPIC, SESSION_TIMEOUT_MS.
 * Prints one JSON line per event on stdout: {"event":"joined","memberId","partitions":[...]}
 * and {"event":"message","partition","offset","value"}.
 */
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const kafka = new Kafka({ clientId: 'child-consumer', brokers: [process.env.SAMSA_BROKER], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: process.env.GROUP,
    sessionTimeout: Number(process.env.SESSION_TIMEOUT_MS || 6000),
    heartbeatInterval: 500,
    maxWaitTimeInMs: 250,
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const partitions = e.payload.memberAssignment[process.env.TOPIC] || [];
    process.stdout.write(JSON.stringify({ event: 'joined', memberId: e.payload.memberId, partitions }) + '\n');
  });
  await consumer.connect();
  await consumer.subscribe({ topic: process.env.TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(JSON.stringify({ event: 'message', partition, offset: message.offset, value: String(message.value) }) + '\n');
    },
  });
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
