/**
 * Grade feedback from the task records: each provider's recent architect grades as points, so routing
 * and `nightshift providers` have them after a restart and without a daemon. Pure.
 */
import type { TaskRecord } from '../core/task.js';
import { gradePoints, isGrade } from '../core/grades.js';

/** How many recent grades a provider's average is taken over. */
export const RECENT_GRADES = 10;

/** The provider whose work a task's review graded: its last attempt that exited (a later one may run). */
export function gradedProvider(task: TaskRecord): string | null {
  return (task.attempts.findLast((a) => a.outcome === 'exited') ?? task.attempts.at(-1))?.provider ?? null;
}

/**
 * Per provider, the points of the latest review of each graded task, oldest first, the last `keep`.
 * A review's time is its approval's, else the record's last update.
 */
export function gradesFromRecords(tasks: readonly TaskRecord[], keep = RECENT_GRADES): Map<string, number[]> {
  const graded = tasks
    .flatMap((task) => {
      const grade = task.review?.grade;
      const provider = gradedProvider(task);
      if (!isGrade(grade) || !provider) return [];
      return [{ provider, points: gradePoints(grade), at: task.review?.approvedAt ?? task.updatedAt }];
    })
    .sort((a, b) => a.at.localeCompare(b.at));
  const out = new Map<string, number[]>();
  for (const g of graded) out.set(g.provider, [...(out.get(g.provider) ?? []), g.points].slice(-keep));
  return out;
}

export function averagePoints(points: readonly number[] | undefined): number | null {
  return points?.length ? points.reduce((a, b) => a + b, 0) / points.length : null;
}
