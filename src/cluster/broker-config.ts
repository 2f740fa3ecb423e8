/**
 * Broker-level settings under Kafka's names: what a server.properties file may hold, what
 * DescribeConfigs reports for the broker resource, which settings AlterConfigs may change
 * at run time, and where dynamic changes are kept.
 *
 * Sources, lowest priority first: built-in defaults; the properties file (`--config`), then
 * `--override key=value`, then samsa's own flags (all three are "static"); the dynamic
 * cluster-wide default (AlterConfigs on broker ""); the dynamic per-broker value
 * (AlterConfigs on broker "<node id>").
 *
 * Dynamic values persist in `<dataDir>/broker-configs.json`, replaced atomically:
 *   {"version":1,"default":{"log.retention.ms":"60000"},"broker":{"log.cleaner.backoff.ms":"100"}}
 *
 * Unknown keys in a properties file are logged and ignored, as Kafka does; a known key with
 * a bad value stops the start-up with Kafka's message.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BrokerConfig, parseHttpPort } from '../config';
import { ErrorCode, KafkaError } from '../protocol/errors';
import type { Logger } from '../logging';
import { BrokerLayers, ConfigSource, ConfigSpec, ConfigSynonymValue, ConfigType, SYNONYM_DEFAULTS, TOPIC_CONFIGS, valueError } from './topic-config';
import { writeFileAtomic } from '../storage/file-io';
import { parseListeners, parseProtocolMap } from '../server/listeners';
import { connectionSettingsError } from '../server/connection-limits';

export { parseListeners };

export interface BrokerKeySpec {
  name: string;
  type: ConfigType;
  /** Built-in default as Kafka writes it (null: none). */
  defaultValue: string | null;
  /** Changeable with AlterConfigs (Kafka's dynamic broker configs); others are read-only. */
  dynamic: boolean;
  min?: number;
  max?: number;
  oneOf?: string[];
  /** The BrokerConfig field this key sets (start-up only), with a unit conversion. */
  field?: keyof BrokerConfig;
  /** Settings that mean the same, highest priority first, this one included. */
  group?: string[];
  doc: string;
}

const IGNORED = 'Accepted for compatibility with Kafka configuration files; Samsa does not use it.';

function key(name: string, type: ConfigType, defaultValue: string | null, doc: string, extra: Partial<BrokerKeySpec> = {}): BrokerKeySpec {
  return { name, type, defaultValue, dynamic: false, doc, ...extra };
}

/** TLS, SASL and delegation token settings (per listener with the listener.name.<name>. prefix). */
const SECURITY_KEYS: BrokerKeySpec[] = [
  key('ssl.keystore.type', 'string', 'JKS', 'Format of the key store: PEM or PKCS12 (JKS files must be converted to PKCS12 first).'),
  key('ssl.keystore.location', 'string', null, 'File holding the listener\'s private key and certificate chain (PEM or PKCS12).'),
  key('ssl.keystore.password', 'password', null, 'Password of the PKCS12 key store.'),
  key('ssl.key.password', 'password', null, 'Password of the private key (an encrypted PEM key, or the key in a PKCS12 store).'),
  key('ssl.keystore.key', 'password', null, 'The private key as PEM text, instead of a key store file (ssl.keystore.type=PEM).'),
  key('ssl.keystore.certificate.chain', 'password', null, 'The certificate chain as PEM text, instead of a key store file (ssl.keystore.type=PEM).'),
  key('ssl.truststore.type', 'string', 'JKS', 'Format of the trust store: PEM or PKCS12.'),
  key('ssl.truststore.location', 'string', null, 'File holding the certificates of the CAs that client certificates must chain to.'),
  key('ssl.truststore.password', 'password', null, 'Password of the PKCS12 trust store.'),
  key('ssl.truststore.certificates', 'password', null, 'Trusted CA certificates as PEM text, instead of a trust store file.'),
  key('ssl.client.auth', 'string', 'none', 'Whether clients must present a certificate: required, requested or none.', { oneOf: ['required', 'requested', 'none'] }),
  key('ssl.enabled.protocols', 'list', 'TLSv1.2,TLSv1.3', 'TLS versions the listener accepts.'),
  key('ssl.protocol', 'string', 'TLSv1.3', 'Accepted for compatibility; the versions are set by ssl.enabled.protocols.'),
  key('ssl.cipher.suites', 'list', '', 'Cipher suites the listener accepts, by their standard names; empty means the TLS library\'s defaults.'),
  key('ssl.principal.mapping.rules', 'string', 'DEFAULT', 'How a client certificate\'s distinguished name becomes the principal name: DEFAULT, or RULE:pattern/replacement/[LU] rules.'),
  key('ssl.endpoint.identification.algorithm', 'string', 'https', IGNORED),
  key('ssl.keymanager.algorithm', 'string', 'SunX509', IGNORED),
  key('ssl.trustmanager.algorithm', 'string', 'PKIX', IGNORED),
  key('ssl.secure.random.implementation', 'string', null, IGNORED),
  key('ssl.engine.factory.class', 'class', null, IGNORED),
  key('ssl.provider', 'string', null, IGNORED),
  key('ssl.allow.dn.changes', 'boolean', 'false', IGNORED),
  key('ssl.allow.san.changes', 'boolean', 'false', IGNORED),
  key('sasl.enabled.mechanisms', 'list', 'GSSAPI', 'SASL mechanisms SASL listeners offer: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (GSSAPI is not supported).'),
  key('sasl.jaas.config', 'password', null, 'JAAS login module settings; PlainLoginModule user_<name>="<password>" options define PLAIN users, OAuthBearerLoginModule options the unsecured token checks.'),
  key('sasl.mechanism.inter.broker.protocol', 'string', 'GSSAPI', IGNORED),
  key('sasl.mechanism.controller.protocol', 'string', 'GSSAPI', IGNORED),
  key('sasl.kerberos.service.name', 'string', null, IGNORED),
  key('sasl.kerberos.principal.to.local.rules', 'list', 'DEFAULT', IGNORED),
  key('sasl.server.callback.handler.class', 'class', null, IGNORED),
  key('sasl.login.callback.handler.class', 'class', null, IGNORED),
  key('sasl.login.class', 'class', null, IGNORED),
  key('sasl.oauthbearer.jwks.endpoint.url', 'string', null, IGNORED),
  key('sasl.oauthbearer.expected.audience', 'list', null, IGNORED),
  key('sasl.oauthbearer.expected.issuer', 'string', null, IGNORED),
  key('sasl.oauthbearer.sub.claim.name', 'string', 'sub', IGNORED),
  key('sasl.oauthbearer.scope.claim.name', 'string', 'scope', IGNORED),
  key('principal.builder.class', 'class', null, IGNORED),
  key('connections.max.reauth.ms', 'long', '0', 'Longest SASL session before the client must re-authenticate (KIP-368); 0 means sessions do not expire.', { min: 0 }),
  key('connections.max.idle.ms', 'long', '600000', 'Connections that sent nothing and had no request in progress for this long are closed; -1 never closes them.', { min: -1 }),
  key('delegation.token.secret.key', 'password', null, 'Secret that signs delegation tokens; tokens are disabled while it is unset.'),
  key('delegation.token.master.key', 'password', null, 'Older name of delegation.token.secret.key.'),
  key('delegation.token.max.lifetime.ms', 'long', '604800000', 'Longest a delegation token can live, renewals included.', { min: 1 }),
  key('delegation.token.expiry.time.ms', 'long', '86400000', 'How long a delegation token lives before it must be renewed.', { min: 1 }),
  key('samsa.http.host', 'string', null, 'Address of Samsa\'s HTTP server (console, /metrics, /healthz); default: the broker\'s host (samsa --http-host).', { field: 'httpHost' }),
  key('samsa.http.port', 'string', '9644', 'Port of Samsa\'s HTTP server (samsa --http-port); 0 picks a free port, none turns it off.', { field: 'httpPort' }),
  key('delegation.token.expiry.check.interval.ms', 'long', '3600000', 'How often expired delegation tokens are removed.', { min: 1 }),
];

/** Broker keys that are not topic-config synonyms. */
const OWN_KEYS: BrokerKeySpec[] = [
  key('node.id', 'int', '-1', 'Id of this broker (samsa --node-id); reported in Metadata as the leader of every partition.', { field: 'nodeId' }),
  key('broker.id', 'int', '-1', 'Older name of node.id; used when node.id is not set.', { field: 'nodeId' }),
  key('listeners', 'string', 'PLAINTEXT://:9092', 'Addresses to listen on, as NAME://host:port,... with each name a security protocol or mapped to one by listener.security.protocol.map; the first PLAINTEXT listener is samsa --host/--port.'),
  key('advertised.listeners', 'string', null, 'Addresses given to clients in Metadata and FindCoordinator, per listener name, as NAME://host:port,... (samsa --advertised-host/--advertised-port for the PLAINTEXT one).'),
  key('log.dirs', 'string', null, 'Directory holding partition data and metadata (samsa --data-dir); only the first of a list is used.', { field: 'dataDir' }),
  key('log.dir', 'string', '/tmp/kafka-logs', 'Data directory when log.dirs is not set.', { field: 'dataDir' }),
  key('socket.request.max.bytes', 'int', '104857600', 'Largest request a client may send; a bigger one closes the connection.', { field: 'maxRequestBytes', min: 1 }),
  key('auto.create.topics.enable', 'boolean', 'true', 'Create a topic when a client asks for metadata of one that does not exist.', { field: 'autoCreateTopics' }),
  key('num.partitions', 'int', '1', 'Partition count of automatically created topics and of CreateTopics requests that leave it to the broker.', {
    field: 'numPartitions',
    min: 1,
  }),
  key('default.replication.factor', 'int', '1', 'Replication factor of automatically created topics and of CreateTopics requests that leave it to the broker; at most the brokers that are up (samsa serve --brokers N).', {
    field: 'defaultReplicationFactor',
    min: 1,
  }),
  key('auto.leader.rebalance.enable', 'boolean', 'true', 'Simulated cluster: move leadership back to preferred replicas when a broker leads too few of the partitions it prefers.'),
  key('leader.imbalance.check.interval.seconds', 'long', '300', 'Simulated cluster: how often the leader balance is checked.', { min: 1 }),
  key('leader.imbalance.per.broker.percentage', 'int', '10', 'Simulated cluster: share of its preferred partitions (percent) a broker may not lead before a preferred election runs.', { min: 0 }),
  key('delete.topic.enable', 'boolean', 'true', 'Whether DeleteTopics may delete topics. Samsa always allows it.'),
  key('max.incremental.fetch.session.cache.slots', 'int', '1000', 'How many incremental fetch sessions (KIP-227) the broker keeps; a fetch that finds the cache full goes without a session.', { min: 0 }),
  key('min.incremental.fetch.session.eviction.ms', 'int', '120000', 'How long a fetch session must go unused before a new session may take its slot.', { min: 0 }),
  key('telemetry.max.bytes', 'int', '1048576', 'Largest metrics payload a client may push (KIP-714 PushTelemetry); clients are told it with their subscription.', { min: 1 }),
  key('log.retention.check.interval.ms', 'long', '300000', 'How often the broker looks for segments to delete under retention.ms, retention.bytes and the log start offset.', { min: 1 }),
  key('log.cleaner.enable', 'boolean', 'true', 'Run the log cleaner, which compacts topics with cleanup.policy=compact.'),
  key('log.cleaner.threads', 'int', '1', 'Cleaner threads. Samsa cleans one partition at a time, interleaved with request handling.', { dynamic: true, min: 0 }),
  key('log.cleaner.backoff.ms', 'long', '15000', 'How long the cleaner sleeps when no partition needs compaction.', { dynamic: true, min: 0 }),
  key('log.cleaner.dedupe.buffer.size', 'long', '134217728', 'Memory for the cleaner\'s key-to-offset map; when full, one cleaning covers fewer segments.', {
    dynamic: true,
  }),
  key('log.cleaner.io.max.bytes.per.second', 'double', '1.7976931348623157E308', 'Limit on the cleaner\'s combined read and write rate.', { dynamic: true, min: 1 }),
  key('log.cleaner.io.buffer.size', 'int', '524288', IGNORED, { dynamic: true }),
  key('log.cleaner.io.buffer.load.factor', 'double', '0.9', IGNORED, { dynamic: true }),
  key('offsets.topic.num.partitions', 'int', '50', 'Partitions of __consumer_offsets when it is first created.', { field: 'offsetsTopicNumPartitions', min: 1 }),
  key('offsets.topic.replication.factor', 'short', '3', 'Replication factor of __consumer_offsets; always 1 on one broker.'),
  key('offsets.topic.segment.bytes', 'int', '104857600', 'segment.bytes of __consumer_offsets.'),
  key('offsets.retention.minutes', 'int', '10080', 'Committed offsets of a group with no members are dropped after this many minutes.', {
    field: 'offsetsRetentionMinutes',
    min: 1,
  }),
  key('group.initial.rebalance.delay.ms', 'int', '3000', 'How long a new consumer group waits for more members before its first rebalance.', {
    field: 'groupInitialRebalanceDelayMs',
    min: 0,
  }),
  key('group.min.session.timeout.ms', 'int', '6000', 'Smallest session timeout a group member may ask for.', { field: 'groupMinSessionTimeoutMs' }),
  key('group.max.session.timeout.ms', 'int', '1800000', 'Largest session timeout a group member may ask for.', { field: 'groupMaxSessionTimeoutMs' }),
  key('group.consumer.session.timeout.ms', 'int', '45000', 'Session timeout of KIP-848 consumer group members; a group may override it (consumer.session.timeout.ms).', {
    field: 'groupConsumerSessionTimeoutMs',
    min: 1,
  }),
  key('group.consumer.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval KIP-848 consumer group members are told to use; a group may override it (consumer.heartbeat.interval.ms).', {
    field: 'groupConsumerHeartbeatIntervalMs',
    min: 1,
  }),
  key('group.consumer.min.session.timeout.ms', 'int', '45000', 'Smallest consumer.session.timeout.ms a consumer group may set.', { min: 1 }),
  key('group.consumer.max.session.timeout.ms', 'int', '60000', 'Largest consumer.session.timeout.ms a consumer group may set.', { min: 1 }),
  key('group.consumer.min.heartbeat.interval.ms', 'int', '5000', 'Smallest consumer.heartbeat.interval.ms a consumer group may set.', { min: 1 }),
  key('group.consumer.max.heartbeat.interval.ms', 'int', '15000', 'Largest consumer.heartbeat.interval.ms a consumer group may set.', { min: 1 }),
  key('group.share.session.timeout.ms', 'int', '45000', 'Session timeout of share group members (share.session.timeout.ms per group).', { min: 1 }),
  key('group.share.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval of share group members (share.heartbeat.interval.ms per group).', { min: 1 }),
  key('group.share.min.session.timeout.ms', 'int', '45000', 'Smallest share.session.timeout.ms a share group may set.', { min: 1 }),
  key('group.share.max.session.timeout.ms', 'int', '60000', 'Largest share.session.timeout.ms a share group may set.', { min: 1 }),
  key('group.share.min.heartbeat.interval.ms', 'int', '5000', 'Smallest share.heartbeat.interval.ms a share group may set.', { min: 1 }),
  key('group.share.max.heartbeat.interval.ms', 'int', '15000', 'Largest share.heartbeat.interval.ms a share group may set.', { min: 1 }),
  key('group.share.record.lock.duration.ms', 'int', '30000', 'How long a share group member holds records it fetched (share.record.lock.duration.ms per group).', { min: 1 }),
  key('group.share.min.record.lock.duration.ms', 'int', '15000', 'Smallest share.record.lock.duration.ms a share group may set.', { min: 1 }),
  key('group.share.max.record.lock.duration.ms', 'int', '60000', 'Largest share.record.lock.duration.ms a share group may set.', { min: 1 }),
  key('group.share.delivery.count.limit', 'int', '5', 'Deliveries of a record to share group members before it is archived (share.delivery.count.limit per group).', { min: 2, max: 10 }),
  key('group.share.min.delivery.count.limit', 'int', '2', 'Smallest share.delivery.count.limit a share group may set.', { min: 2, max: 10 }),
  key('group.share.max.delivery.count.limit', 'int', '10', 'Largest share.delivery.count.limit a share group may set.', { min: 2, max: 10 }),
  key('group.share.partition.max.record.locks', 'int', '2000', 'Records of a share partition that may be in flight at once (share.partition.max.record.locks per group).', { min: 100, max: 10000 }),
  key('group.share.min.partition.max.record.locks', 'int', '100', 'Smallest share.partition.max.record.locks a share group may set.', { min: 100, max: 10000 }),
  key('group.share.max.partition.max.record.locks', 'int', '10000', 'Largest share.partition.max.record.locks a share group may set.', { min: 100, max: 10000 }),
  key('group.share.max.size', 'int', '200', 'Largest number of members in a share group.', { min: 1, max: 1000 }),
  key('group.streams.session.timeout.ms', 'int', '45000', 'Session timeout of streams group members (streams.session.timeout.ms per group).', { min: 1 }),
  key('group.streams.heartbeat.interval.ms', 'int', '5000', 'Heartbeat interval of streams group members (streams.heartbeat.interval.ms per group).', { min: 1 }),
  key('group.streams.min.session.timeout.ms', 'int', '45000', 'Smallest streams.session.timeout.ms a streams group may set.', { min: 1 }),
  key('group.streams.max.session.timeout.ms', 'int', '60000', 'Largest streams.session.timeout.ms a streams group may set.', { min: 1 }),
  key('group.streams.min.heartbeat.interval.ms', 'int', '5000', 'Smallest streams.heartbeat.interval.ms a streams group may set.', { min: 1 }),
  key('group.streams.max.heartbeat.interval.ms', 'int', '15000', 'Largest streams.heartbeat.interval.ms a streams group may set.', { min: 1 }),
  key('group.streams.num.standby.replicas', 'int', '0', 'Standby replicas per task of streams groups (streams.num.standby.replicas per group).', { min: 0 }),
  key('group.streams.max.standby.replicas', 'int', '2', 'Largest streams.num.standby.replicas a streams group may set.', { min: 0 }),
  key('transaction.state.log.replication.factor', 'short', '3', 'Replication factor of __transaction_state; always 1 on one broker.'),
  key('transaction.state.log.min.isr', 'int', '2', 'min.insync.replicas of __transaction_state; always 1 on one broker.'),
  key('transaction.state.log.num.partitions', 'int', '50', 'Partitions of __transaction_state when it is first created.'),
  key('quota.window.num', 'int', '11', 'Number of sample windows client quota rates are measured over (see README, client quotas).', { min: 1 }),
  key('quota.window.size.seconds', 'int', '1', 'Length of each client quota sample window.', { min: 1 }),
  key('process.roles', 'list', '', IGNORED),
  key('controller.quorum.voters', 'list', '', IGNORED),
  key('controller.quorum.bootstrap.servers', 'list', '', IGNORED),
  key('controller.listener.names', 'list', null, 'Listeners used only by KRaft controllers; Samsa skips them when it picks its listener.'),
  key('listener.security.protocol.map', 'string', 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL', 'Security protocol of each listener name, as NAME:PROTOCOL pairs.'),
  ...SECURITY_KEYS,
  key('inter.broker.listener.name', 'string', null, IGNORED),
  key('authorizer.class.name', 'string', '', 'Turns ACLs on: org.apache.kafka.metadata.authorizer.StandardAuthorizer (or the older kafka.security.authorizer.AclAuthorizer); empty means no authorizer.'),
  key('super.users', 'string', null, 'Principals allowed everything whatever the ACLs say, separated by semicolons: User:admin;User:ops.'),
  key('allow.everyone.if.no.acl.found', 'boolean', 'false', 'With the authorizer on, whether a resource that has no ACLs at all is open to everyone.'),
  key('num.network.threads', 'int', '3', IGNORED),
  key('num.io.threads', 'int', '8', IGNORED),
  key('socket.send.buffer.bytes', 'int', '102400', IGNORED),
  key('socket.receive.buffer.bytes', 'int', '102400', IGNORED),
  key('num.recovery.threads.per.data.dir', 'int', '2', IGNORED),
  key('share.coordinator.state.topic.replication.factor', 'short', '3', IGNORED),
  key('share.coordinator.state.topic.min.isr', 'short', '2', IGNORED),
  key('zookeeper.connect', 'string', null, IGNORED),
  key('zookeeper.connection.timeout.ms', 'int', null, IGNORED),
  // Kafka 4.2's other dynamic broker settings: kept and reported; nothing in Samsa reads them.
  key('sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit', IGNORED),
  key('sasl.kerberos.ticket.renew.window.factor', 'double', '0.8', IGNORED),
  key('sasl.kerberos.ticket.renew.jitter', 'double', '0.05', IGNORED),
  key('sasl.kerberos.min.time.before.relogin', 'long', '60000', IGNORED),
  key('sasl.login.refresh.window.factor', 'double', '0.8', IGNORED, { min: 0.5, max: 1 }),
  key('sasl.login.refresh.window.jitter', 'double', '0.05', IGNORED, { min: 0, max: 0.25 }),
  key('sasl.login.refresh.min.period.seconds', 'short', '60', IGNORED, { min: 0, max: 900 }),
  key('sasl.login.refresh.buffer.seconds', 'short', '300', IGNORED, { min: 0, max: 3600 }),
  key('max.connections', 'int', '2147483647', 'Most connections the broker keeps open (listener.name.<l>.max.connections: on one listener); new ones wait unread, up to socket.listen.backlog.size, until one closes.', { min: 0 }),
  key('max.connection.creation.rate', 'int', '2147483647', IGNORED, { min: 0 }),
  key('max.connections.per.ip', 'int', '2147483647', 'Most connections from one IP address; a new connection over it is closed at once. 0 only with max.connections.per.ip.overrides.', { min: 0 }),
  key('max.connections.per.ip.overrides', 'string', '', 'Per-address exceptions to max.connections.per.ip, as host:count,ip:count (e.g. hostName:100,127.0.0.1:200).'),
  key('socket.listen.backlog.size', 'int', '50', 'Connections over max.connections that may wait to be served; newer ones are closed.', { min: 1 }),
  key('queued.max.request.bytes', 'long', '-1', 'Request bytes received and not yet handled, over all connections, before connections stop reading; -1 for no limit. At least socket.request.max.bytes when set.'),
  key('num.replica.fetchers', 'int', '1', IGNORED, { min: 1 }),
  key('background.threads', 'int', '10', IGNORED, { min: 1 }),
  key('metric.reporters', 'list', '', IGNORED),
  key('config.providers', 'list', '', IGNORED),
  key('producer.id.expiration.ms', 'int', '86400000', IGNORED, { min: 1 }),
  key('transaction.partition.verification.enable', 'boolean', 'true', IGNORED),
  key('remote.log.index.file.cache.total.size.bytes', 'long', '1073741824', IGNORED, { min: 1 }),
  key('remote.fetch.max.wait.ms', 'int', '500', IGNORED, { min: 1 }),
  key('remote.log.manager.copy.max.bytes.per.second', 'long', '9223372036854775807', IGNORED, { min: 1 }),
  key('remote.log.manager.fetch.max.bytes.per.second', 'long', '9223372036854775807', IGNORED, { min: 1 }),
  key('remote.list.offsets.request.timeout.ms', 'long', '30000', IGNORED, { min: 1 }),
  key('remote.log.manager.copier.thread.pool.size', 'int', '10', IGNORED, { min: 1 }),
  key('remote.log.manager.expiration.thread.pool.size', 'int', '10', IGNORED, { min: 1 }),
  key('remote.log.manager.follower.thread.pool.size', 'int', '2', IGNORED, { min: 1 }),
  key('remote.log.reader.threads', 'int', '10', IGNORED, { min: 1 }),
  key('follower.fetch.last.tiered.offset.enable', 'boolean', 'false', IGNORED),
  key('group.coordinator.cached.buffer.max.bytes', 'int', '1048588', IGNORED, { min: 524288 }),
  key('share.coordinator.cached.buffer.max.bytes', 'int', '1048588', IGNORED, { min: 524288 }),
];

/**
 * Kafka 4.2's dynamic broker settings beyond the topic-config synonyms (DynamicBrokerConfig
 * AllDynamicConfigs: security and listener settings, socket limits, thread pools, producer
 * state, remote log and coordinator buffers). listeners and listener.security.protocol.map are
 * dynamic in Kafka but not here: Samsa opens its listeners once, at start-up.
 */
const KAFKA_DYNAMIC = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.truststore.type',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
  'principal.builder.class', 'ssl.protocol', 'ssl.provider', 'ssl.cipher.suites', 'ssl.enabled.protocols', 'ssl.keymanager.algorithm',
  'ssl.trustmanager.algorithm', 'ssl.endpoint.identification.algorithm', 'ssl.secure.random.implementation', 'ssl.client.auth',
  'ssl.engine.factory.class', 'sasl.mechanism.inter.broker.protocol', 'sasl.jaas.config', 'sasl.enabled.mechanisms',
  'sasl.kerberos.service.name', 'sasl.kerberos.kinit.cmd', 'sasl.kerberos.ticket.renew.window.factor', 'sasl.kerberos.ticket.renew.jitter',
  'sasl.kerberos.min.time.before.relogin', 'sasl.kerberos.principal.to.local.rules', 'sasl.login.refresh.window.factor',
  'sasl.login.refresh.window.jitter', 'sasl.login.refresh.min.period.seconds', 'sasl.login.refresh.buffer.seconds',
  'max.connections', 'max.connection.creation.rate', 'num.network.threads', 'max.connections.per.ip', 'max.connections.per.ip.overrides',
  'num.io.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir', 'background.threads', 'metric.reporters', 'config.providers',
  'producer.id.expiration.ms', 'transaction.partition.verification.enable', 'remote.log.index.file.cache.total.size.bytes',
  'remote.fetch.max.wait.ms', 'remote.log.manager.copy.max.bytes.per.second', 'remote.log.manager.fetch.max.bytes.per.second',
  'remote.list.offsets.request.timeout.ms', 'remote.log.manager.copier.thread.pool.size', 'remote.log.manager.expiration.thread.pool.size',
  'remote.log.manager.follower.thread.pool.size', 'remote.log.reader.threads', 'follower.fetch.last.tiered.offset.enable',
  'group.coordinator.cached.buffer.max.bytes', 'share.coordinator.cached.buffer.max.bytes',
  'log.cleaner.threads', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.load.factor', 'log.cleaner.io.buffer.size',
  'log.cleaner.io.max.bytes.per.second', 'log.cleaner.backoff.ms',
]);
for (const k of OWN_KEYS) if (KAFKA_DYNAMIC.has(k.name)) k.dynamic = true;

/** Key stores and trust stores: dynamic only per listener (listener.name.<l>.<key>), as in Kafka. */
const LISTENER_ONLY = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.truststore.type',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
]);

/** Security and listener settings: dynamic per broker only, not at the cluster-wide default. */
const PER_BROKER_ONLY = new Set(
  [...KAFKA_DYNAMIC].filter((k) => LISTENER_ONLY.has(k) || /^(ssl\.|sasl\.)/.test(k) || k === 'principal.builder.class'),
);

/** Topic-config synonyms: the first of each topic config's list may change dynamically, as in Kafka. */
const SYNONYM_KEYS: BrokerKeySpec[] = TOPIC_CONFIGS.flatMap((spec: ConfigSpec) =>
  spec.synonyms.map((syn, i) => ({
    name: syn.name,
    type: syn.factor ? 'int' : spec.type,
    defaultValue: SYNONYM_DEFAULTS[syn.name] ?? null,
    dynamic: i === 0,
    oneOf: spec.oneOf,
    min: syn.factor ? undefined : spec.min,
    max: syn.factor ? undefined : spec.max,
    group: spec.synonyms.length > 1 ? spec.synonyms.map((x) => x.name) : undefined,
    doc: syn.factor
      ? `Broker default for the topic config ${spec.name}, in ${syn.factor === 3_600_000 ? 'hours' : 'minutes'}; used when the finer-grained settings before it are not set.`
      : `Broker default for the topic config ${spec.name}. ${spec.doc}`,
  })),
);

export const BROKER_KEYS: BrokerKeySpec[] = (() => {
  const seen = new Set<string>();
  const out: BrokerKeySpec[] = [];
  for (const k of [...SYNONYM_KEYS, ...OWN_KEYS]) {
    if (seen.has(k.name)) continue;
    seen.add(k.name);
    out.push(k);
  }
  // Code-unit order (not localeCompare, whose first call costs milliseconds of ICU setup at start).
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
})();

export const BROKER_KEY_BY_NAME = new Map(BROKER_KEYS.map((k) => [k.name, k]));

/** The names of the topic-config synonyms (they end up in BrokerConfig.logDefaults). */
const SYNONYM_NAMES = new Set(SYNONYM_KEYS.map((k) => k.name));

// ---------------------------------------------------------------- properties files

/**
 * Parses Java properties text: `key=value`, `key: value` or `key value`; `#` and `!`
 * comments; a trailing backslash continues a line; \t \n \r \f \uXXXX and escaped
 * separators in keys and values.
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const rawLines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < rawLines.length; i++) {
    let line = rawLines[i].replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // Join continuation lines (an odd number of trailing backslashes).
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < rawLines.length) {
      line = line.slice(0, -1) + rawLines[++i].replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    while (k < line.length) {
      const c = line[k];
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      k++;
    }
    const rawKey = line.slice(0, k);
    let rest = line.slice(k).replace(/^[ \t\f]*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    out[unescape(rawKey)] = unescape(rest);
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[e] ?? e;
  });
}

/**
 * Turns Kafka-named settings (properties file, then --override) into BrokerConfig fields, the
 * topic-config synonyms (logDefaults) and the full static map (brokerProperties). Throws
 * with Kafka's message on a bad value; logs and skips unknown keys.
 */
export function brokerConfigFromProperties(props: Record<string, string>, log: Logger): Partial<BrokerConfig> {
  const out: Partial<BrokerConfig> = {};
  const known: Record<string, string> = {};
  const logDefaults: Record<string, string> = {};
  for (const [name, raw] of Object.entries(props)) {
    const spec = BROKER_KEY_BY_NAME.get(name) ?? listenerPrefixedSpec(name);
    if (!spec) {
      log.warn('unknown broker setting ignored', { key: name });
      continue;
    }
    const value = raw.trim();
    const err = valueError(spec, value);
    if (err) throw new Error(err);
    known[name] = value;
    if (SYNONYM_NAMES.has(name)) logDefaults[name] = value;
  }
  const num = (k: string) => Number(known[k]);
  for (const [name, value] of Object.entries(known)) {
    const spec = BROKER_KEY_BY_NAME.get(name);
    if (!spec?.field) continue;
    if (name === 'broker.id' && known['node.id'] !== undefined) continue;
    if (name === 'log.dir' && known['log.dirs'] !== undefined) continue;
    const fields = out as Record<string, unknown>;
    if (name === 'samsa.http.port') fields.httpPort = parseHttpPort(value);
    else if (spec.type === 'boolean') fields[spec.field] = value.toLowerCase() === 'true';
    else if (spec.type === 'string' || spec.type === 'list') fields[spec.field] = spec.field === 'dataDir' ? value.split(',')[0].trim() : value;
    else fields[spec.field] = num(name);
  }
  if (known['listeners'] !== undefined) {
    // --host/--port stand for the first PLAINTEXT listener; the others are read from
    // brokerProperties when the broker opens its listeners (server/listeners.ts).
    const controllers = new Set((known['controller.listener.names'] ?? '').split(',').map((x) => x.trim().toUpperCase()));
    const protocols = parseProtocolMap(known['listener.security.protocol.map']);
    const listener = parseListeners(known['listeners']).find((l) => !controllers.has(l.name) && protocols.get(l.name) === 'PLAINTEXT');
    if (listener) {
      out.host = listener.host === '' ? '0.0.0.0' : listener.host;
      out.port = listener.port;
    }
  }
  if (known['advertised.listeners'] !== undefined) {
    const protocols = parseProtocolMap(known['listener.security.protocol.map']);
    const adv = parseListeners(known['advertised.listeners']).find((l) => protocols.get(l.name) === 'PLAINTEXT');
    if (adv) {
      if (adv.host !== '') out.advertisedHost = adv.host;
      out.advertisedPort = adv.port;
    }
  }
  out.logDefaults = logDefaults;
  out.brokerProperties = known;
  return out;
}

/**
 * `listener.name.<listener>.<key>` (and `listener.name.<listener>.<mechanism>.sasl.jaas.config`)
 * set a security key for one listener: they take the spec of the key they prefix.
 */
export function listenerPrefixedSpec(name: string): BrokerKeySpec | undefined {
  const m = /^listener\.name\.[a-z0-9_]+\.(.+)$/.exec(name);
  if (!m) return undefined;
  const rest = m[1].replace(/^(plain|scram-sha-256|scram-sha-512|oauthbearer|gssapi)\.(sasl\.jaas\.config)$/, '$2');
  const spec = BROKER_KEY_BY_NAME.get(rest);
  return spec && PER_LISTENER_KEY.test(rest) ? spec : undefined;
}

const PER_LISTENER_KEY = /^(ssl\.|sasl\.|connections\.max\.reauth\.ms$|principal\.builder\.class$|max\.connections$)/;

/** The Kafka key a BrokerConfig field answers to (node.id for nodeId, log.dirs for dataDir...), if any. */
export function kafkaKeyForField(field: keyof BrokerConfig): string | null {
  if (field === 'host' || field === 'port') return null;
  const preferred: Partial<Record<keyof BrokerConfig, string>> = { nodeId: 'node.id', dataDir: 'log.dirs' };
  return preferred[field] ?? BROKER_KEYS.find((k) => k.field === field)?.name ?? null;
}

/** Reads a properties file (as `samsa serve --config FILE`). */
export function readPropertiesFile(file: string): Record<string, string> {
  return parseProperties(fs.readFileSync(file, 'utf8'));
}

// ---------------------------------------------------------------- dynamic configs

interface DynamicFile {
  version: 1;
  default: Record<string, string>;
  broker: Record<string, string>;
}

/**
 * The broker's settings in all their layers. `layers` is a live object: TopicManager
 * resolves topic configs through it, so dynamic changes apply to every topic at once.
 */
export class BrokerConfigStore {
  readonly layers: BrokerLayers;
  private readonly file: string;

  constructor(
    readonly config: BrokerConfig,
    private readonly log: Logger,
  ) {
    this.file = path.join(config.dataDir, 'broker-configs.json');
    const staticValues: Record<string, string> = { ...(config.brokerProperties ?? {}), ...config.logDefaults };
    const defaults: Record<string, string> = {};
    for (const k of BROKER_KEYS) if (k.defaultValue !== null) defaults[k.name] = k.defaultValue;
    this.layers = { dynamicBroker: {}, dynamicDefault: {}, static: staticValues, defaults };
    this.load();
    const err = connectionSettingsError((k) => this.get(k) ?? undefined);
    if (err) throw new Error(err);
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    try {
      const f = JSON.parse(fs.readFileSync(this.file, 'utf8')) as DynamicFile;
      Object.assign(this.layers.dynamicDefault, f.default ?? {});
      Object.assign(this.layers.dynamicBroker, f.broker ?? {});
    } catch (err) {
      this.log.error('cannot read dynamic broker configs; starting without them', { file: this.file, error: (err as Error).message });
    }
  }

  private persist(): void {
    const f: DynamicFile = { version: 1, default: this.layers.dynamicDefault, broker: this.layers.dynamicBroker };
    writeFileAtomic(this.file, JSON.stringify(f, null, 1));
  }

  /** Effective value of a broker setting (null when unset with no default). */
  get(name: string): string | null {
    return this.resolve(name).value;
  }

  /** A numeric broker setting, or `fallback` when unset or not a number. */
  number(name: string, fallback: number): number {
    const v = this.get(name);
    const n = v === null ? NaN : Number(v);
    return Number.isFinite(n) ? n : fallback;
  }

  /** Value, source and synonyms of a broker setting (DescribeConfigs on the broker resource). */
  resolve(name: string): { value: string | null; source: number; synonyms: ConfigSynonymValue[] } {
    const spec = BROKER_KEY_BY_NAME.get(name);
    const group = spec?.group ?? [name];
    // This setting and the coarser ones after it in its group (Kafka lists synonyms from the name on).
    const names = group.slice(Math.max(0, group.indexOf(name)));
    const synonyms: ConfigSynonymValue[] = [];
    const levels: [Record<string, string>, number][] = [
      [this.layers.dynamicBroker, ConfigSource.DYNAMIC_BROKER],
      [this.layers.dynamicDefault, ConfigSource.DYNAMIC_DEFAULT_BROKER],
      [this.layers.static, ConfigSource.STATIC_BROKER],
      [this.layers.defaults, ConfigSource.DEFAULT],
    ];
    for (const [values, source] of levels) {
      for (const n of names) if (Object.prototype.hasOwnProperty.call(values, n)) synonyms.push({ name: n, value: values[n], source });
    }
    const mine = synonyms.find((x) => x.name === name && x.source !== ConfigSource.DEFAULT);
    if (mine) return { value: mine.value, source: mine.source, synonyms };
    // Not set in a layer: settings backed by a flag report what the broker actually runs with.
    // A value other than Kafka's default was configured (a flag is samsa's server.properties
    // line), so it is reported as Kafka reports a configured value: a static broker config.
    const fromField = this.fieldValue(name);
    if (fromField !== null && fromField !== spec?.defaultValue) {
      return { value: fromField, source: ConfigSource.STATIC_BROKER, synonyms: [{ name, value: fromField, source: ConfigSource.STATIC_BROKER }, ...synonyms] };
    }
    if (fromField !== null) return { value: fromField, source: ConfigSource.DEFAULT, synonyms };
    const dflt = synonyms.find((x) => x.name === name);
    return { value: dflt?.value ?? null, source: ConfigSource.DEFAULT, synonyms };
  }

  /** Settings served from BrokerConfig fields (flags) rather than key/value layers. */
  private fieldValue(name: string): string | null {
    const c = this.config;
    switch (name) {
      case 'listeners':
        return `PLAINTEXT://${c.host}:${c.port}`;
      case 'samsa.http.port':
        return c.httpPort === null ? 'none' : String(c.httpPort);
      case 'advertised.listeners':
        return c.advertisedHost || c.advertisedPort !== null ? `PLAINTEXT://${c.advertisedHost || c.host}:${c.advertisedPort ?? c.port}` : null;
      default: {
        const spec = BROKER_KEY_BY_NAME.get(name);
        if (!spec?.field) return null;
        const v = c[spec.field];
        return v === undefined || v === null ? null : String(v);
      }
    }
  }

  /**
   * Checks a complete new set of dynamic values for one level (KafkaError with Kafka's code
   * and message on the first problem), then applies and persists it unless validateOnly.
   * `perBroker` selects the per-broker level, otherwise the cluster-wide default.
   */
  replace(perBroker: boolean, values: Record<string, string>, validateOnly: boolean): void {
    // A listener's own value of a setting may change at run time even when the base setting cannot (Kafka checks the prefixed name).
    const specOf = (k: string): BrokerKeySpec | undefined => {
      const prefixed = BROKER_KEY_BY_NAME.has(k) ? undefined : listenerPrefixedSpec(k);
      return prefixed ? { ...prefixed, dynamic: true } : BROKER_KEY_BY_NAME.get(k);
    };
    const nonDynamic = Object.keys(values).filter((k) => specOf(k) !== undefined && !specOf(k)!.dynamic);
    if (nonDynamic.length > 0) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: Set(${nonDynamic.join(', ')})`);
    }
    const unprefixed = Object.keys(values).filter((k) => LISTENER_ONLY.has(k));
    if (unprefixed.length > 0) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `These security configs can be dynamically updated only per-listener using the listener prefix: Set(${unprefixed.join(', ')})`);
    }
    for (const [k, v] of Object.entries(values)) {
      const spec = specOf(k);
      if (!spec) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown broker config name: ${k}`);
      const err = valueError({ ...spec, name: k }, v);
      if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err);
    }
    if (!perBroker) {
      const brokerOnly = Object.keys(values).filter((k) => PER_BROKER_ONLY.has(k) || listenerPrefixedSpec(k) !== undefined);
      if (brokerOnly.length > 0) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Cannot update these configs at default cluster level, broker id must be specified: Set(${brokerOnly.join(', ')})`);
      }
    }
    // The connection settings are checked together, as they would be after the change.
    const merged: Record<string, string> = { ...(perBroker ? this.layers.dynamicDefault : values), ...(perBroker ? values : this.layers.dynamicBroker) };
    const combined = connectionSettingsError((k) => merged[k] ?? this.layers.static[k] ?? this.get(k) ?? undefined);
    if (combined) throw new KafkaError(ErrorCode.INVALID_CONFIG, combined);
    if (validateOnly) return;
    const target = perBroker ? this.layers.dynamicBroker : this.layers.dynamicDefault;
    for (const k of Object.keys(target)) delete target[k];
    Object.assign(target, values);
    this.persist();
    this.log.info('dynamic broker configs changed', { scope: perBroker ? 'this broker' : 'cluster default', values });
  }

  /** The dynamic values of one level (for incremental changes). */
  dynamicValues(perBroker: boolean): Record<string, string> {
    return { ...(perBroker ? this.layers.dynamicBroker : this.layers.dynamicDefault) };
  }
}
