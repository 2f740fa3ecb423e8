/**
 * `samsa serve` parses plain command lines without yargs (src/cli/serve-options.ts). For every
 * line it accepts, the result must be what yargs, configured as main.ts configures it, hands
 * the serve command; every other line must be left to yargs (help, errors, unusual forms).
 * The last test runs the CLI itself on both paths.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import yargs from 'yargs';
import { fastServeArgv, SERVE_OPTIONS } from '../../src/cli/serve-options';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/** What yargs gives the serve handler for `args` (main.ts's parser settings), or the error it reports. */
function viaYargs(args: string[]): Record<string, unknown> | { error: string } {
  let got: Record<string, unknown> | { error: string } = { error: 'no handler ran' };
  yargs(args)
    .parserConfiguration({ 'camel-case-expansion': false })
    .command('serve', '', (y) => y.options(SERVE_OPTIONS), (argv) => {
      got = argv as Record<string, unknown>;
    })
    .strict()
    .fail((msg, err) => {
      got = { error: msg ?? err?.message ?? 'failed' };
    })
    .exitProcess(false)
    .help(false)
    .version(false)
    .parse();
  return got;
}

const servedKeys = (argv: Record<string, unknown>) =>
  Object.fromEntries(Object.keys(SERVE_OPTIONS).filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]]).concat([['_', argv._]]));

const ACCEPTED = [
  ['serve'],
  ['serve', '--host', '127.0.0.1', '--port', '0', '--http-port', 'none', '--data-dir', '/tmp/x'],
  ['serve', '--port=9092', '--data-dir=/tmp/a=b', '--node-id', '3', '--cluster-id', '12345'],
  ['serve', '--ephemeral', '--log-level', 'info', '--auto-create-topics=false', '--tls-dev'],
  ['serve', '--kafka-defaults=true', '--brokers', '3', '--broker-ports', '9092,9093,9094'],
  ['serve', '--override', 'num.partitions=3', '--override', 'log.retention.ms=1000'],
  ['serve', '--add-scram', 'x', '--port', '1', '--add-scram', 'y', 'z'],
  ['serve', '--override', 'a=1', 'b=2', '--add-scram', 'SCRAM-SHA-256=[name=alice,password=s]', '--port', '1'],
  ['serve', '--override=a=1', 'b=2', '--config', 'server.properties', '--http-host', '0.0.0.0', '--http-port', '0'],
  ['serve', '--max-connections', '10', '--max-connections-per-ip', '2', '--connections-max-idle-ms', '600000', '--advertised-host', 'h', '--advertised-port', '19092'],
  ['serve', '--host', '', '--group-initial-rebalance-delay-ms', '3000', '--offsets-retention-minutes', '1'],
];

const LEFT_TO_YARGS = [
  ['topics', 'list'],
  ['serve', '--help'],
  ['serve', '-h'],
  ['serve', '--version'],
  ['serve', '--bogus'],
  ['serve', 'extra'],
  ['serve', '--port', '1', '--port', '2'],
  ['serve', '--no-auto-create-topics'],
  ['serve', '--log-level', 'loud'],
  ['serve', '--port', 'abc'],
  ['serve', '--port', '0x10'],
  ['serve', '--port'],
  ['serve', '--node-id', '-1'],
  ['serve', '--host', '-x'],
  ['serve', '--ephemeral', 'true'],
  ['serve', '--ephemeral=yes'],
  ['serve', '--override', 'a=1', '-5'],
];

test.each(ACCEPTED.map((a) => [a.join(' '), a]))('%s: parsed as yargs parses it', (_line, args) => {
  const fast = fastServeArgv(args);
  expect(fast).not.toBeNull();
  const slow = viaYargs(args);
  expect(slow).not.toHaveProperty('error');
  expect(servedKeys(fast!)).toEqual(servedKeys(slow as Record<string, unknown>));
});

test.each(LEFT_TO_YARGS.map((a) => [a.join(' '), a]))('%s: left to yargs', (_line, args) => {
  expect(fastServeArgv(args)).toBeNull();
});

test('the CLI answers the same on both paths: serve --help, an unknown flag, and a start that fails the same way', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const help = run(['serve', '--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--data-dir');
  expect(help.stdout).toContain('--log-level');
  expect(run(['serve', '--bogus'])).toEqual({ status: 2, stdout: '', stderr: 'samsa: error: Unknown argument: bogus; see samsa serve --help\n' });
  // Both paths reach serve with the same flags: --ephemeral with --data-dir is refused there.
  const args = ['serve', '--ephemeral', '--data-dir', '/nonexistent/samsa', '--port', '0'];
  const fast = run(args);
  const slow = run(args, { SAMSA_DEBUG_ARGV: '1' });
  expect(fast.status).toBe(1);
  expect(fast.stderr).toBe('samsa: --ephemeral makes its own data dir: give --ephemeral or --data-dir, not both\n');
  expect(slow.status).toBe(1);
  expect(slow.stderr.split('\n').slice(1).join('\n')).toBe(fast.stderr); // after the argv line
});
