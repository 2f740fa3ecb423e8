#!/usr/bin/env node
/**
 * The `samsa` command: `samsa serve` runs a broker; the other subcommands are a Kafka client
 * toolbox (topics, produce, consume, groups, configs, users, acls, cluster, records) that
 * speaks the wire protocol to any broker.
 *
 * Flag names are a contract other tools rely on (serve: --host, --port, --data-dir,
 * --advertised-host, --node-id, --cluster-id; the client commands also take Kafka's tool
 * flags such as --topic, --partitions, --from-beginning, --property). Only flag definitions
 * live here: each command's code is required when it runs, which keeps startup short.
 */
import type { Argv } from 'yargs';
import { DEFAULT_HTTP_PORT } from '../config';
import { commandLine, fastServeArgv, SERVE_OPTIONS } from './serve-options';

/** Requires a command module on first use and calls one of its exports with the parsed flags. */
function lazy(modulePath: string, fn: string) {
  return (argv: unknown) => {
    if (process.env.SAMSA_DEBUG_ARGV) process.stderr.write(JSON.stringify(argv) + "\n");
    const mod = require(modulePath) as Record<string, (a: unknown) => Promise<void>>;
    return mod[fn](argv).catch((err: Error) => {
      process.stderr.write(`samsa: ${err.message}\n`);
      process.exit(1);
    });
  };
}

const CONNECTION_GROUP = 'Connection:';

function connection<T>(y: Argv<T>) {
  return y
    .option('bootstrap-server', { alias: ['b', 'bootstrap-servers', 'broker-list'], type: 'string', default: 'localhost:9092', describe: 'Broker(s) to start from, host:port[,host:port]', group: CONNECTION_GROUP })
    .option('command-config', { alias: ['consumer-config', 'producer-config'], type: 'string', describe: 'Kafka client.properties: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location (PEM) or ssl.ca.location', group: CONNECTION_GROUP })
    .option('sasl-mechanism', { type: 'string', describe: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512', group: CONNECTION_GROUP })
    .option('sasl-username', { type: 'string', describe: 'SASL user name', group: CONNECTION_GROUP })
    .option('sasl-password', { type: 'string', describe: 'SASL password', group: CONNECTION_GROUP })
    .option('tls', { type: 'boolean', describe: 'Connect with TLS (implied by --tls-ca or an SSL security.protocol)', group: CONNECTION_GROUP })
    .option('tls-ca', { type: 'string', describe: 'PEM file of the CA(s) to trust instead of the system ones', group: CONNECTION_GROUP })
    .option('tls-insecure', { type: 'boolean', describe: 'Do not verify the broker certificate (testing only)', group: CONNECTION_GROUP })
    .option('timeout', { type: 'number', default: 30, describe: 'Request timeout in seconds', group: CONNECTION_GROUP })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable JSON output' });
}

const topicFlag = { type: 'string', describe: 'Topic name (Kafka tool style; same as the positional)' } as const;
const configFlag = { type: 'string', array: true, describe: 'Topic config key=value (repeatable)' } as const;

const COMMANDS = ['serve', 'topics', 'produce', 'consume', 'groups', 'configs', 'users', 'acls', 'quotas', 'leaders', 'cluster', 'records', 'faults', 'brokers', 'partitions'];
const GROUPED = ['topics', 'groups', 'configs', 'users', 'acls', 'quotas', 'leaders', 'records', 'faults', 'brokers', 'partitions'];
const SUBCOMMANDS = ['list', 'describe', 'create', 'delete', 'alter', 'reset-offsets', 'add', 'remove', 'elect', 'clear', 'latency', 'pause', 'resume', 'stop', 'start', 'move-leader'];

/** The broker's HTTP admin endpoint: fault injection, and the simulated cluster's brokers and partitions. */
function adminEndpoint<T>(y: Argv<T>) {
  return y
    .option('admin-url', { alias: 'admin', type: 'string', default: `http://localhost:${DEFAULT_HTTP_PORT}`, describe: "The broker's HTTP server (serve --http-port)" })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable JSON output' });
}

/** One line for a bad command line, pointing at --help, exit 2. */
function usageError(msg: string | null, err: Error | undefined): void {
  if (err) {
    process.stderr.write(`samsa: error: ${err.message}\n`);
    process.exit(1);
  }
  // Point at the help of the deepest command the user really named.
  const words = commandLine().filter((x) => !x.startsWith('-'));
  const path = COMMANDS.includes(words[0]) ? (GROUPED.includes(words[0]) && SUBCOMMANDS.includes(words[1]) ? words.slice(0, 2) : words.slice(0, 1)) : [];
  process.stderr.write(`samsa: error: ${msg}; see ${['samsa', ...path, '--help'].join(' ')}\n`);
  process.exit(2);
}

/** kcat writes the key separator glued to its flag (-K:); yargs would read that as two flags. */
const args = commandLine().flatMap((a) => (/^-K.+/.test(a) ? ['--key-separator', a.slice(2)] : [a]));

// `samsa serve` with plain flags starts the broker without loading yargs (serve-options.ts).
const fastServe = process.env.SAMSA_DEBUG_ARGV ? null : fastServeArgv(args);
if (fastServe) void lazy('./serve', 'serve')(fastServe);
else void (require('yargs') as typeof import('yargs'))(args)
  .scriptName('samsa')
  // Handlers read kebab-case names; camelCase copies would only double names in error messages.
  .parserConfiguration({ 'camel-case-expansion': false })
  .usage('$0 <command> [options]')
  .command(
    'serve',
    'Run a Kafka-compatible broker in the foreground',
    (y) => y.options(SERVE_OPTIONS),
    lazy('./serve', 'serve'),
  )
  .command('brokers', 'Brokers of a simulated cluster (samsa serve --brokers N): list, stop, start', (y) =>
    y
      .command('list', 'Every broker: id, address, up or down, partitions led', (y2) => adminEndpoint(y2).example('$0 brokers list --admin-url http://localhost:9644', ''), lazy('./cluster', 'brokersList'))
      .command('stop <id>', 'Stop a broker: its connections drop, leaders and coordinators move', (y2) => adminEndpoint(y2).positional('id', { type: 'number' }).example('$0 brokers stop 2', ''), lazy('./cluster', 'brokersStop'))
      .command('start <id>', 'Start a stopped broker again on its ports', (y2) => adminEndpoint(y2).positional('id', { type: 'number' }).example('$0 brokers start 2', ''), lazy('./cluster', 'brokersStart'))
      .demandCommand(1, 'Give a brokers subcommand: list, stop or start'),
  )
  .command('partitions', 'Partitions of a simulated cluster: describe, move-leader, elect', (y) =>
    y
      .command('describe <topic>', 'Replicas, ISR, leader and leader epoch of each partition', (y2) => adminEndpoint(y2).positional('topic', { type: 'string' }), lazy('./cluster', 'partitionsDescribe'))
      .command(
        'move-leader <topic> <partition> <leader>',
        'Move a partition\'s leadership to another in-sync replica (its leader epoch advances)',
        (y2) => adminEndpoint(y2).positional('topic', { type: 'string' }).positional('partition', { type: 'number' }).positional('leader', { type: 'number' }).example('$0 partitions move-leader orders 0 3', ''),
        lazy('./cluster', 'partitionsMoveLeader'),
      )
      .command('elect', 'Preferred leader election of every partition', (y2) => adminEndpoint(y2), lazy('./cluster', 'partitionsElect'))
      .demandCommand(1, 'Give a partitions subcommand: describe, move-leader or elect'),
  )
  .command('topics', 'List, describe, create, delete and alter topics', (y) =>
    y
      .command('list', 'Topic names, one a line', (y) => connection(y).option('internal', { type: 'boolean', describe: 'Include internal topics (__consumer_offsets, ...)' }).example('$0 topics list -b localhost:9092', '').example('$0 topics list --json', ''), lazy('./topics', 'list'))
      .command(
        'describe [name..]',
        'Partitions with leaders, replicas, earliest/latest offsets and sizes; non-default configs',
        (y) => connection(y).positional('name', { type: 'string', array: true, describe: 'Topics (default: all)' }).option('topic', topicFlag).option('internal', { type: 'boolean', describe: 'Include internal topics when none are named' }).example('$0 topics describe orders', '').example('$0 topics describe --topic orders --json', ''),
        lazy('./topics', 'describe'),
      )
      .command(
        'create [name]',
        'Create a topic',
        (y) =>
          connection(y)
            .positional('name', { type: 'string' })
            .option('topic', topicFlag)
            .option('partitions', { alias: 'p', type: 'number', describe: 'Partition count (default: the broker\'s num.partitions)' })
            .option('replication-factor', { alias: 'r', type: 'number', describe: 'Replicas per partition (default: the broker\'s)' })
            .option('config', configFlag)
            .option('if-not-exists', { type: 'boolean', describe: 'Succeed when the topic already exists' })
            .example('$0 topics create orders --partitions 3 --config retention.ms=86400000', '')
            .example('$0 topics create --topic orders --partitions 3 --replication-factor 1', 'Kafka tool style'),
        lazy('./topics', 'create'),
      )
      .command(
        'delete [name..]',
        'Delete topics',
        (y) => connection(y).positional('name', { type: 'string', array: true }).option('topic', topicFlag).option('if-exists', { type: 'boolean', describe: 'Succeed when the topic does not exist' }).example('$0 topics delete orders', ''),
        lazy('./topics', 'del'),
      )
      .command(
        'alter [name]',
        'Add partitions and set or remove topic configs',
        (y) =>
          connection(y)
            .positional('name', { type: 'string' })
            .option('topic', topicFlag)
            .option('partitions', { alias: 'p', type: 'number', describe: 'New (larger) partition count' })
            .option('config', configFlag)
            .option('delete-config', { type: 'string', array: true, describe: 'Config key to return to its default (repeatable)' })
            .example('$0 topics alter orders --partitions 6', '')
            .example('$0 topics alter orders --config retention.ms=3600000 --delete-config cleanup.policy', ''),
        lazy('./topics', 'alter'),
      )
      .demandCommand(1, 'Give a topics subcommand: list, describe, create, delete or alter'),
  )
  .command(
    'produce [name]',
    'Produce one record per line of stdin (or --file)',
    (y) =>
      connection(y)
        .positional('name', { type: 'string', describe: 'Topic' })
        .option('topic', topicFlag)
        .option('file', { alias: 'f', type: 'string', describe: 'Read lines from this file instead of stdin' })
        .option('key-separator', { alias: 'K', type: 'string', describe: 'Lines are key<SEP>value (like kcat -K)' })
        .option('header', { alias: 'H', type: 'string', array: true, describe: 'Header key=value added to every record (repeatable)' })
        .option('partition', { type: 'number', describe: 'Write to this partition (default: by key hash, unkeyed spread)' })
        .option('compression', { alias: ['z', 'compression-codec'], type: 'string', default: 'none', choices: ['none', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'], describe: 'Batch compression' })
        .option('acks', { type: 'string', default: 'all', choices: ['0', '1', 'all', '-1'], describe: 'Acknowledgements to wait for' })
        .option('idempotent', { alias: ['enable-idempotence'], type: 'boolean', default: false, describe: 'Idempotent producer (producer id and sequence numbers)' })
        .option('batch-size', { type: 'number', default: 512 * 1024, describe: 'Bytes per batch before it is sent' })
        .option('linger-ms', { type: 'number', default: 5, describe: 'Wait this long for more records before sending a batch' })
        .option('property', { type: 'string', array: true, describe: 'Kafka console producer property: parse.key=true, key.separator=:' })
        .option('null-empty-value', { type: 'boolean', describe: 'Send an empty value as null (a tombstone)' })
        .example('echo hello | $0 produce orders', '')
        .example("printf 'k1:v1\\nk2:v2\\n' | $0 produce orders -K: -H source=cli", 'Keys and a header')
        .example('$0 produce --topic orders --property parse.key=true --property key.separator=: --file data.txt', 'Kafka tool style')
        .example('$0 produce orders --compression zstd --idempotent < events.jsonl', ''),
    lazy('./produce', 'produce'),
  )
  .command(
    'consume [name..]',
    'Print records; follows the topic until Ctrl-C unless --exit-at-end or --max-messages',
    (y) =>
      connection(y)
        .positional('name', { type: 'string', array: true, describe: 'Topic(s)' })
        .option('topic', topicFlag)
        .option('from-beginning', { type: 'boolean', describe: 'Start at the earliest offset (with --group: when it has no committed offset)' })
        .option('offset', { alias: 'o', type: 'string', describe: 'Start at beginning, end, an offset, or -N (N records before the end)' })
        .option('timestamp', { type: 'string', describe: 'Start at the first record at or after this time (epoch ms or ISO date)' })
        .option('partition', { type: 'number', array: true, describe: 'Only these partitions (repeatable; not with --group)' })
        .option('group', { alias: 'G', type: 'string', describe: 'Consume as a member of this group, committing offsets' })
        .option('max-messages', { alias: 'c', type: 'number', describe: 'Stop after this many records' })
        .option('exit-at-end', { alias: 'e', type: 'boolean', describe: 'Stop at the end of every partition' })
        .option('timeout-ms', { type: 'number', describe: 'Stop after this long without a record' })
        .option('isolation-level', { type: 'string', default: 'read_uncommitted', choices: ['read_uncommitted', 'read_committed'], describe: 'Hide records of open and aborted transactions with read_committed' })
        .option('format', { type: 'string', describe: 'Template like kcat -f: %t topic %p partition %o offset %k key %s value %K/%S lengths %T timestamp %h headers, \\n \\t' })
        .option('print-key', { type: 'boolean', describe: 'Print key<TAB>value' })
        .option('property', { type: 'string', array: true, describe: 'Kafka console consumer property: print.key, print.timestamp, print.partition, print.offset, print.headers, key.separator, null.literal' })
        .example('$0 consume orders --from-beginning --exit-at-end', '')
        .example("$0 consume orders -o beginning -e --format '%p:%o %k=%s\\n'", 'kcat-style template')
        .example('$0 consume orders --group billing --json', 'JSON lines with key, value, headers, offset, timestamp, partition')
        .example('$0 consume --topic orders --from-beginning --max-messages 10 --property print.key=true', 'Kafka tool style'),
    lazy('./consume', 'consume'),
  )
  .command('groups', 'List, describe (with lag), reset offsets of and delete consumer groups', (y) =>
    y
      .command('list', 'Groups and their states', (y) => connection(y).example('$0 groups list', ''), lazy('./groups', 'list'))
      .command(
        'describe [name..]',
        'Committed offset, log end offset and lag per partition, with the owning member',
        (y) => connection(y).positional('name', { type: 'string', array: true }).option('group', { type: 'string', array: true, describe: 'Group id (Kafka tool style)' }).example('$0 groups describe billing', '').example('$0 groups describe --group billing --json', ''),
        lazy('./groups', 'describe'),
      )
      .command(
        'reset-offsets [name]',
        "Move a group's committed offsets (dry run unless --execute; the group must have no members)",
        (y) =>
          connection(y)
            .positional('name', { type: 'string' })
            .option('group', { type: 'string', array: true, describe: 'Group id (Kafka tool style)' })
            .option('topic', { type: 'string', array: true, describe: 'TOPIC or TOPIC:P,P (repeatable)' })
            .option('all-topics', { type: 'boolean', describe: 'Every topic the group has offsets for' })
            .option('to-earliest', { type: 'boolean' })
            .option('to-latest', { type: 'boolean' })
            .option('to-offset', { type: 'number' })
            .option('shift-by', { type: 'number', describe: 'Move by N (negative: back)' })
            .option('to-datetime', { type: 'string', describe: 'First offset at or after this time (ISO date or epoch ms)' })
            .option('execute', { type: 'boolean', describe: 'Commit the new offsets' })
            .option('dry-run', { type: 'boolean', describe: 'Only show the new offsets (the default)' })
            .example('$0 groups reset-offsets billing --topic orders --to-earliest --execute', '')
            .example('$0 groups reset-offsets --group billing --topic orders:0 --shift-by -10', 'Dry run'),
        lazy('./groups', 'resetOffsets'),
      )
      .command(
        'delete [name..]',
        'Delete groups (they must have no members)',
        (y) => connection(y).positional('name', { type: 'string', array: true }).option('group', { type: 'string', array: true }).example('$0 groups delete billing', ''),
        lazy('./groups', 'del'),
      )
      .demandCommand(1, 'Give a groups subcommand: list, describe, reset-offsets or delete'),
  )
  .command('configs', 'Describe and alter topic, broker and group configs', (y) => {
    const entity = (y2: Argv) =>
      connection(y2)
        .option('entity-type', { type: 'string', default: 'topic', describe: 'topic, broker or group (Kafka tool style)' })
        .option('entity-name', { type: 'string', describe: 'The entity (Kafka tool style)' })
        .option('topic', { type: 'string', describe: 'A topic' })
        .option('broker', { type: 'string', describe: 'A broker id' })
        .option('group', { type: 'string', describe: 'A group' });
    return y
      .command('describe', 'Configs that differ from the defaults (--all for every key)', (y2) => entity(y2).option('all', { type: 'boolean', describe: 'Show default values too' }).example('$0 configs describe --topic orders', '').example('$0 configs describe --broker 1 --all', ''), lazy('./admin-commands', 'configsDescribe'))
      .command(
        'alter',
        'Set or remove configs (incrementally)',
        (y2) => entity(y2).option('add-config', { type: 'string', array: true, describe: 'k=v[,k=v] to set' }).option('delete-config', { type: 'string', array: true, describe: 'k[,k] back to default' }).example('$0 configs alter --topic orders --add-config retention.ms=60000,cleanup.policy=compact', ''),
        lazy('./admin-commands', 'configsAlter'),
      )
      .demandCommand(1, 'Give a configs subcommand: describe or alter');
  })
  .command('users', 'SCRAM users (DescribeUserScramCredentials / AlterUserScramCredentials)', (y) => {
    const mech = (y2: Argv) => connection(y2).option('mechanism', { type: 'string', default: 'SCRAM-SHA-256', describe: 'SCRAM-SHA-256 or SCRAM-SHA-512' });
    return y
      .command('list [name]', 'Users with SCRAM credentials and their iterations', (y2) => connection(y2).positional('name', { type: 'string' }).example('$0 users list', ''), lazy('./admin-commands', 'usersList'))
      .command('add <name>', 'Create or update a SCRAM credential', (y2) => mech(y2).positional('name', { type: 'string' }).option('password', { type: 'string', describe: 'The password' }).option('iterations', { type: 'number', default: 8192 }).example('$0 users add alice --password s3cret --mechanism SCRAM-SHA-512', ''), lazy('./admin-commands', 'usersAdd'))
      .command('remove <name>', 'Remove a SCRAM credential', (y2) => mech(y2).positional('name', { type: 'string' }).example('$0 users remove alice --mechanism SCRAM-SHA-256', ''), lazy('./admin-commands', 'usersRemove'))
      .demandCommand(1, 'Give a users subcommand: list, add or remove');
  })
  .command('acls', 'List, add and remove ACLs', (y) => {
    const acl = (y2: Argv) =>
      connection(y2)
        .option('allow-principal', { type: 'string', array: true, describe: 'User:NAME to allow' })
        .option('deny-principal', { type: 'string', array: true, describe: 'User:NAME to deny' })
        .option('principal', { type: 'string', describe: 'Filter on a principal' })
        .option('operation', { type: 'string', array: true, describe: 'read, write, create, delete, alter, describe, describe-configs, alter-configs, idempotent-write, all' })
        .option('host', { type: 'string', describe: 'Client host (default *)' })
        .option('topic', { type: 'string' })
        .option('group', { type: 'string' })
        .option('cluster', { type: 'boolean' })
        .option('transactional-id', { type: 'string' })
        .option('resource-pattern-type', { type: 'string', default: 'literal', describe: 'literal or prefixed (list/remove also: any, match)' });
    return y
      .command('list', 'ACLs matching the filter (all by default)', (y2) => acl(y2).option('resource-pattern-type', { type: 'string', default: 'any' }).example('$0 acls list --topic orders', ''), lazy('./admin-commands', 'aclsList'))
      .command('add', 'Create ACLs', (y2) => acl(y2).example('$0 acls add --allow-principal User:alice --operation read --operation describe --topic orders', ''), lazy('./admin-commands', 'aclsAdd'))
      .command('remove', 'Delete the ACLs matching the filter', (y2) => acl(y2).example('$0 acls remove --allow-principal User:alice --topic orders', ''), lazy('./admin-commands', 'aclsRemove'))
      .demandCommand(1, 'Give an acls subcommand: list, add or remove');
  })
  .command(
    'cluster',
    'Cluster id, brokers, controller and supported API versions',
    (y) => connection(y).option('api-versions', { type: 'boolean', describe: 'List every API with its version range' }).example('$0 cluster --api-versions', ''),
    lazy('./admin-commands', 'cluster'),
  )
  .command('quotas', 'List and alter client quotas (DescribeClientQuotas / AlterClientQuotas)', (y) => {
    const ent = <T>(y2: Argv<T>) =>
      connection(y2)
        .option('user', { type: 'string', describe: 'User principal name' })
        .option('client-id', { type: 'string', describe: 'Client id' })
        .option('ip', { type: 'string', describe: 'Client address (connection_creation_rate)' })
        .option('user-default', { type: 'boolean', describe: 'The <default> user entity' })
        .option('client-default', { type: 'boolean', describe: 'The <default> client-id entity' })
        .option('ip-default', { type: 'boolean', describe: 'The <default> ip entity' });
    return y
      .command('list', 'Quotas of the named entity, or every entity with quotas', (y2) => ent(y2).example('$0 quotas list', '').example('$0 quotas list --user alice', ''), lazy('./admin-commands', 'quotasList'))
      .command(
        'alter',
        'Set (--add-config) or remove (--delete-config) quotas of one entity',
        (y2) =>
          ent(y2)
            .option('add-config', { type: 'string', array: true, describe: 'key=value, e.g. producer_byte_rate=1048576 (repeatable or comma-separated)' })
            .option('delete-config', { type: 'string', array: true, describe: 'Quota key to remove (repeatable)' })
            .example('$0 quotas alter --user alice --add-config producer_byte_rate=1048576,consumer_byte_rate=2097152', '')
            .example('$0 quotas alter --user alice --delete-config producer_byte_rate', ''),
        lazy('./admin-commands', 'quotasAlter'),
      )
      .demandCommand(1, 'Give a quotas subcommand: list or alter');
  })
  .command('leaders', 'Leader elections (ElectLeaders)', (y) =>
    y
      .command(
        'elect',
        'Elect the preferred (or an unclean) leader for a topic\'s partitions, or for every partition',
        (y2) =>
          connection(y2)
            .option('topic', { type: 'string', describe: 'Topic (default: every partition of the cluster)' })
            .option('partition', { type: 'number', array: true, describe: 'Partitions of --topic (default: all)' })
            .option('election-type', { type: 'string', default: 'preferred', describe: 'preferred or unclean' })
            .example('$0 leaders elect --topic orders', ''),
        lazy('./admin-commands', 'leadersElect'),
      )
      .demandCommand(1, 'Give a leaders subcommand: elect'),
  )
  .command('records', 'Delete records below an offset', (y) =>
    y
      .command(
        'delete',
        'Move the log start offset forward (DeleteRecords)',
        (y2) =>
          connection(y2)
            .option('topic', { type: 'string', demandOption: true })
            .option('partition', { type: 'number', array: true, describe: 'Partitions (default: all)' })
            .option('offset', { type: 'string', demandOption: true, describe: 'Delete records below this offset, or "end" for all' })
            .example('$0 records delete --topic orders --partition 0 --offset 100', ''),
        lazy('./admin-commands', 'recordsDelete'),
      )
      .demandCommand(1, 'Give a records subcommand: delete'),
  )
  .command('faults', 'Inject faults into a running broker over its HTTP admin endpoint: errors, delays, dropped connections, latency, pauses', (y) =>
    y
      .command(
        'add',
        'Make the next matching requests fail, wait or lose their connection',
        (y2) =>
          adminEndpoint(y2)
            .option('api', { type: 'string', demandOption: true, describe: 'API name (Produce, Fetch, JoinGroup, ...) or key' })
            .option('topic', { type: 'string', describe: 'Only entries of this topic (the rest of the request is handled)' })
            .option('partition', { type: 'number', describe: 'Only this partition' })
            .option('broker-id', { type: 'number', describe: 'Only requests to this broker' })
            .option('client-id', { type: 'string', describe: 'Only requests with this client.id' })
            .option('count', { type: 'string', describe: 'How many matching requests (default 1), or "unlimited"' })
            .option('error', { type: 'string', describe: 'Answer this Kafka error (name or code), without doing the work' })
            .option('delay-ms', { type: 'number', describe: 'Hold the request this long before handling it' })
            .option('drop-connection', { type: 'boolean', describe: 'Close the connection instead of answering' })
            .example('$0 faults add --api Produce --error NOT_LEADER_OR_FOLLOWER --count 2', '')
            .example('$0 faults add --api Fetch --topic orders --partition 0 --delay-ms 5000', '')
            .example('$0 faults add --api Metadata --drop-connection --admin-url http://localhost:9644', ''),
        lazy('./faults', 'add'),
      )
      .command('list', 'Fault rules with their remaining counts and hits, and broker latencies and pauses', (y2) => adminEndpoint(y2), lazy('./faults', 'list'))
      .command('clear [id]', 'Remove one rule, or every rule, latency and pause', (y2) => adminEndpoint(y2).positional('id', { type: 'number', describe: 'Rule id (default: all)' }), lazy('./faults', 'clear'))
      .command('latency <broker> <ms>', 'Delay every request of a broker (0 removes it)', (y2) => adminEndpoint(y2).positional('broker', { type: 'number' }).positional('ms', { type: 'number' }), lazy('./faults', 'latency'))
      .command('pause <broker>', 'The broker accepts and reads requests but answers none until resumed', (y2) => adminEndpoint(y2).positional('broker', { type: 'number' }), lazy('./faults', 'pause'))
      .command('resume <broker>', 'Resume a paused broker', (y2) => adminEndpoint(y2).positional('broker', { type: 'number' }), lazy('./faults', 'resume'))
      .demandCommand(1, 'Give a faults subcommand: add, list, clear, latency, pause or resume'),
  )
  .completion('completion', 'Print a bash/zsh completion script: samsa completion >> ~/.bashrc')
  .demandCommand(1, 'Give a command, e.g. `samsa serve` or `samsa topics list`')
  .recommendCommands()
  .strict()
  .fail(usageError)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(120, process.stdout.columns || 100))
  .parse();
