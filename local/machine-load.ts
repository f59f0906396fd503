/**
 * CPU accounting for performance figures: CPU time of a process (ours, a child such as DynamoDB
 * Local's JVM, the threads of this one) and how busy the whole machine was meanwhile, read from
 * Linux's /proc. Wall-clock figures on a shared machine mean little without the second: a bench
 * that says "p99 2 s" must also say whether other processes were eating the cores.
 *
 * @example
 * const before = sampleMachine([java.pid]);
 * await runWorkload();
 * const load = machineLoadSince(before, sampleMachine([java.pid]));
 * console.log(load.ownCpuMs, load.othersCpuMs, load.loadAverage1m);
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Linux reports process times in clock ticks; USER_HZ is 100 on every mainstream kernel config. */
const TICK_MS = 10;

/** User + system CPU of a process or thread from its /proc stat file, in ms; undefined if it is gone. */
export function procCpuMs(statPath: string): number | undefined {
  try {
    const stat = readFileSync(statPath, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU of another process (for example the DynamoDB Local JVM) in ms; undefined if it is gone. */
export function processCpuMs(pid: number): number | undefined {
  return procCpuMs(`/proc/${pid}/stat`);
}

/** CPU ms of each live thread of this process by thread id (the main thread's id is the pid). */
export function threadCpuMs(): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const ms = procCpuMs(`/proc/self/task/${tid}/stat`);
    if (ms !== undefined) threads.set(Number(tid), ms);
  }
  return threads;
}

export interface MachineSample {
  readonly at: number;
  /** Jiffies of all cores: busy (user+nice+system+irq+softirq), steal, total. */
  readonly busyTicks: number;
  readonly stealTicks: number;
  readonly totalTicks: number;
  /** This process, all threads (process.cpuUsage), ms. */
  readonly ownCpuMs: number;
  /** The watched child processes' CPU, ms (0 for one that has gone). */
  readonly childCpuMs: number;
}

function readProcStat(): { busy: number; steal: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
    const total = busy + (idle ?? 0) + (iowait ?? 0) + (steal ?? 0);
    return { busy, steal: steal ?? 0, total };
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
}

/** A snapshot to diff against a later one; `childPids` are processes we started (their CPU is ours). */
export function sampleMachine(childPids: readonly number[] = []): MachineSample {
  const stat = readProcStat();
  const usage = process.cpuUsage();
  return {
    at: Date.now(),
    busyTicks: stat.busy,
    stealTicks: stat.steal,
    totalTicks: stat.total,
    ownCpuMs: (usage.user + usage.system) / 1000,
    childCpuMs: childPids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0),
  };
}

export interface MachineLoad {
  readonly wallMs: number;
  readonly cores: number;
  /** 1-minute load average at the end of the interval (runnable + waiting tasks, all processes). */
  readonly loadAverage1m: number;
  /** All CPU used on the machine in the interval, as a share of all cores (0..1). */
  readonly busyShare: number;
  /** CPU stolen by the hypervisor, as a share of all cores. */
  readonly stealShare: number;
  /** This process plus the watched children. */
  readonly ownCpuMs: number;
  /** CPU of every other process on the machine: the contention this run did not cause. */
  readonly othersCpuMs: number;
  /** Others' CPU as a share of all cores (0.5 on 2 cores = one core busy with someone else's work). */
  readonly othersShare: number;
}

export function machineLoadSince(before: MachineSample, after: MachineSample): MachineLoad {
  const cores = cpus().length || 1;
  const wallMs = Math.max(1, after.at - before.at);
  const totalTicks = Math.max(1, after.totalTicks - before.totalTicks);
  const busyMs = ((after.busyTicks - before.busyTicks) / totalTicks) * wallMs * cores;
  const ownCpuMs = after.ownCpuMs - before.ownCpuMs + (after.childCpuMs - before.childCpuMs);
  const othersCpuMs = Math.max(0, busyMs - ownCpuMs);
  const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    wallMs,
    cores,
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    busyShare: round((after.busyTicks - before.busyTicks) / totalTicks),
    stealShare: round((after.stealTicks - before.stealTicks) / totalTicks),
    ownCpuMs: Math.round(ownCpuMs),
    othersCpuMs: Math.round(othersCpuMs),
    othersShare: round(othersCpuMs / (wallMs * cores)),
  };
}

/** One line for a report: how busy the machine was, and how much of that was someone else. */
export function describeMachineLoad(load: MachineLoad): string {
  return `load avg ${load.loadAverage1m}, machine ${Math.round(load.busyShare * 100)}% busy, other processes ${Math.round(load.othersShare * 100)}% of ${load.cores} cores, steal ${Math.round(load.stealShare * 100)}%`;
}
