/**
 * The server-side task assignor of streams groups: sticky and balanced, as Kafka's default
 * ("sticky") assignor aims to be.
 *
 * Active tasks: every task goes to exactly one member, and member loads differ by one at
 * most. A member keeps the tasks it had within its fair share (floor(tasks / members), plus
 * one while such extra shares are left); the rest go to the least loaded members, spreading
 * over processes first (members of one process share its state directory). Standby tasks (num.standby.replicas per task): never on the process running the
 * task's active copy, nor twice on one process; again sticky, then least loaded. No warmup
 * tasks are given: with state restored from changelogs at once, Samsa has no lag to bridge.
 */
import { addTask, emptyAssignment, hasTask, TaskAssignment, taskKey } from './streams-group';

export interface AssignorMember {
  memberId: string;
  processId: string;
  /** The target it had before (stickiness). */
  previous: TaskAssignment;
}

export function assignTasks(members: AssignorMember[], taskCounts: Map<string, number>, numStandbyReplicas: number): Map<string, TaskAssignment> {
  const out = new Map<string, TaskAssignment>();
  for (const m of members) out.set(m.memberId, emptyAssignment());
  if (members.length === 0) return out;
  const tasks: [string, number][] = [];
  for (const [s, n] of [...taskCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) for (let p = 0; p < n; p++) tasks.push([s, p]);

  const load = new Map<string, number>(members.map((m) => [m.memberId, 0]));
  const processLoad = new Map<string, number>();
  for (const m of members) processLoad.set(m.processId, 0);
  const byId = new Map(members.map((m) => [m.memberId, m]));
  // Balanced: every member gets floor(tasks / members) active tasks, and `extra` of them one
  // more, so a member that joins late is not left empty while the others keep their tasks.
  const base = Math.floor(tasks.length / members.length);
  let extra = tasks.length % members.length;
  const give = (memberId: string, kind: 'active' | 'standby', s: string, p: number) => {
    addTask(out.get(memberId)![kind], s, p);
    load.set(memberId, load.get(memberId)! + 1);
    const proc = byId.get(memberId)!.processId;
    processLoad.set(proc, processLoad.get(proc)! + 1);
  };
  const giveActive = (m: AssignorMember, s: string, p: number) => {
    if (load.get(m.memberId)! >= base) extra--;
    give(m.memberId, 'active', s, p);
    activeOwner.set(taskKey(s, p), m.memberId);
  };
  const roomFor = (m: AssignorMember, withExtra: boolean) => load.get(m.memberId)! < base || (withExtra && extra > 0 && load.get(m.memberId)! === base);
  const leastLoaded = (candidates: AssignorMember[]) =>
    candidates.reduce((best, m) => {
      const a = [processLoad.get(m.processId)!, load.get(m.memberId)!, m.memberId] as const;
      const b = [processLoad.get(best.processId)!, load.get(best.memberId)!, best.memberId] as const;
      return a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2]))) ? m : best;
    });

  // Actives: previous owners keep their tasks up to the fair share, then up to one more while
  // extra shares are left; the rest go to the least loaded members with room.
  const activeOwner = new Map<string, string>();
  const previousOwner = (s: string, p: number) => members.find((m) => hasTask(m.previous.active, s, p));
  let pending: [string, number][] = [];
  for (const [s, p] of tasks) {
    const prev = previousOwner(s, p);
    if (prev && roomFor(prev, false)) giveActive(prev, s, p);
    else pending.push([s, p]);
  }
  const rest: [string, number][] = [];
  for (const [s, p] of pending) {
    const prev = previousOwner(s, p);
    if (prev && roomFor(prev, true)) giveActive(prev, s, p);
    else rest.push([s, p]);
  }
  pending = rest;
  for (const [s, p] of pending) {
    const withRoom = members.filter((m) => roomFor(m, false));
    giveActive(leastLoaded(withRoom.length > 0 ? withRoom : members.filter((m) => roomFor(m, true))), s, p);
  }

  // Standbys: on other processes than the active copy, one per process.
  const processes = new Set(members.map((m) => m.processId));
  const replicas = Math.min(numStandbyReplicas, processes.size - 1);
  for (let r = 0; r < replicas; r++) {
    for (const [s, p] of tasks) {
      const used = new Set<string>([byId.get(activeOwner.get(taskKey(s, p))!)!.processId]);
      for (const m of members) if (hasTask(out.get(m.memberId)!.standby, s, p)) used.add(m.processId);
      const candidates = members.filter((m) => !used.has(m.processId));
      if (candidates.length === 0) continue;
      const sticky = candidates.find((m) => hasTask(m.previous.standby, s, p));
      give((sticky ?? leastLoaded(candidates)).memberId, 'standby', s, p);
    }
  }
  return out;
}
