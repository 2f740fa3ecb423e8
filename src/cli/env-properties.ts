/**
 * Broker settings from KAFKA_* environment variables, named as the Apache Kafka and Confluent
 * images name them, so a compose file written for Kafka configures Samsa unchanged: drop the
 * KAFKA_ prefix, lower-case, then `___` -> `_`, `__` -> `-`, `_` -> `.`
 * (KAFKA_ADVERTISED_LISTENERS -> advertised.listeners, KAFKA_LOG_DIRS -> log.dirs).
 */

/** Variables Kafka's start scripts read for the JVM and logging, never broker settings. */
const NOT_SETTINGS = new Set([
  'KAFKA_HEAP_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JMX_PORT',
  'KAFKA_JMX_HOSTNAME',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
  'KAFKA_DEBUG',
  'KAFKA_VERSION',
  'KAFKA_HOME',
]);

/** The server.properties key a KAFKA_* variable name stands for, or null when it is not one. */
export function kafkaKeyForEnv(name: string): string | null {
  if (!name.startsWith('KAFKA_') || name.length === 'KAFKA_'.length || NOT_SETTINGS.has(name)) return null;
  return name
    .slice('KAFKA_'.length)
    .toLowerCase()
    .replace(/___/g, '\u0000')
    .replace(/__/g, '-')
    .replace(/_/g, '.')
    .replace(/\u0000/g, '_');
}

/** Every KAFKA_* setting in `env`, as server.properties key -> value. */
export function propertiesFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const key = value === undefined ? null : kafkaKeyForEnv(name);
    if (key) out[key] = value as string;
  }
  return out;
}
