/**
 * `npm run soak -- [--kills 20] [--min-up-ms 2000] [--max-up-ms 6000] [--early-kill-rate 0.2]
 *                  [--power-loss] [--no-librdkafka] [--work-dir DIR]`
 *
 * Runs the crash soak (soak.ts) against the built broker and prints its figures; exits 1
 * when a guarantee did not hold (the work dir with the data dir, the broker and client logs
 * and the clients' records is kept then).
 */
import { runSoak } from './soak';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

async function main(): Promise<void> {
  const report = await runSoak({
    kills: Number(arg('kills', '20')),
    minUpMs: Number(arg('min-up-ms', '2000')),
    maxUpMs: Number(arg('max-up-ms', '6000')),
    librdkafka: !process.argv.includes('--no-librdkafka'),
    powerLoss: process.argv.includes('--power-loss'),
    earlyKillRate: Number(arg('early-kill-rate', '0.2')),
    workDir: process.argv.includes('--work-dir') ? arg('work-dir', '') : undefined,
  });
  console.log(`rounds (SIGKILL + restart): ${report.rounds}, plus ${report.startupKills} kills during startup; ${report.seconds} s`);
  console.log('producer            acked     lost  duplicated  misplaced  unacked-but-present');
  for (const p of report.producers) {
    console.log(`${p.client.padEnd(16)} ${String(p.acknowledged).padStart(8)} ${String(p.lost).padStart(8)} ${String(p.duplicated).padStart(11)} ${String(p.misplaced).padStart(10)} ${String(p.unacknowledgedPresent).padStart(20)}`);
  }
  console.log('transactions      committed  aborted  unknown (of which committed)  violations');
  for (const t of report.transactions) {
    console.log(`${t.client.padEnd(16)} ${String(t.committed).padStart(10)} ${String(t.aborted).padStart(8)} ${String(t.unknown).padStart(8)} ${String(t.unknownCommitted).padStart(20)} ${String(t.violations).padStart(11)}`);
  }
  console.log(`read_committed consumer read ${report.readCommittedRecords} records; records of open transactions: ${report.openTransactionRecords}`);
  console.log('group             commits  backwards (acked / log / final fetch)');
  for (const c of report.consumers) {
    console.log(`${c.client.padEnd(16)} ${String(c.commits).padStart(8)}  ${c.backwardsAcknowledged} / ${c.backwardsInLog} / ${c.finalBelowLastAcknowledged}`);
  }
  console.log(`data dir checker: ${report.checkerErrors.length} errors`);
  if (report.failures.length > 0) {
    console.log(`FAILED (work dir kept: ${report.workDir}):`);
    for (const f of report.failures) console.log(`  ${f}`);
    process.exit(1);
  }
  console.log('all guarantees held');
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(2);
});
