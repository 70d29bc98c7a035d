/** The architect's grade scale (DESIGN.md §8) and its points on the usual 4.0 scale. */

export const GRADES = ['A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'C-', 'D', 'F'] as const;
export type Grade = (typeof GRADES)[number];

const GRADE_POINTS: Readonly<Record<Grade, number>> = {
  A: 4.0,
  'A-': 3.7,
  'B+': 3.3,
  B: 3.0,
  'B-': 2.7,
  'C+': 2.3,
  C: 2.0,
  'C-': 1.7,
  D: 1.0,
  F: 0,
};

export function isGrade(text: string | null | undefined): text is Grade {
  return GRADES.includes(text as Grade);
}

/** Grade points on the usual 4.0 scale, for provider routing and reports. */
export function gradePoints(grade: Grade): number {
  return GRADE_POINTS[grade];
}
