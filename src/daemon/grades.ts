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

/** Fewer recent grades than this never throttle: one bad review is not a trend. */
export const MIN_GRADES_TO_THROTTLE = 3;

/** The live limit of a provider whose grades are below the floor. */
export const THROTTLED_LIMIT = 1;

/** A cap on a provider's live limit from its grades, and why. */
export interface GradeCap {
  limit: number;
  reason: string;
}

/**
 * Grades as negative feedback: a provider whose last grades (at least MIN_GRADES_TO_THROTTLE) average
 * below `floor` runs THROTTLED_LIMIT attempts at a time; the cap lifts as soon as the average is back at
 * the floor, so good work earns its slots back. One attempt rather than none, so the provider can
 * recover; rather than a halving, so a provider graded D keeps no more slots at concurrency 8 than at 2.
 * Null: no cap (the floor is off, too few grades, or the average is at or above it).
 */
export function gradeThrottle(points: readonly number[] | undefined, floor: number | null): GradeCap | null {
  if (floor === null || !points || points.length < MIN_GRADES_TO_THROTTLE) return null;
  const average = averagePoints(points) ?? floor;
  if (average >= floor) return null;
  return {
    limit: THROTTLED_LIMIT,
    reason: `recent grades average ${average.toFixed(2)} over the last ${points.length}, below the floor ${floor.toFixed(2)}`,
  };
}

/** The cap as `nightshift providers` and the TUI show it. */
export function describeGradeCap(cap: GradeCap): string {
  return `held at ${cap.limit}: ${cap.reason}`;
}
