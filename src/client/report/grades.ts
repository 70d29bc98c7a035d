/** Letter grades (A, A-, B+, … F) as points on a 4.0 scale, and back. */

export const GRADE_POINTS: Readonly<Record<string, number>> = {
  'A+': 4.0,
  A: 4.0,
  'A-': 3.7,
  'B+': 3.3,
  B: 3.0,
  'B-': 2.7,
  'C+': 2.3,
  C: 2.0,
  'C-': 1.7,
  'D+': 1.3,
  D: 1.0,
  'D-': 0.7,
  F: 0,
};

/** The letters a histogram shows, best first; each grade counts under its first letter. */
export const GRADE_LETTERS = ['A', 'B', 'C', 'D', 'F'] as const;

/** Points for a grade, or null when the text is not a grade. */
export function gradeToPoints(grade: string | null | undefined): number | null {
  if (!grade) return null;
  return GRADE_POINTS[grade.trim().toUpperCase()] ?? null;
}

/** The grade whose points are nearest (ties go to the better grade). */
export function pointsToGrade(points: number): string {
  let best = 'F';
  let bestDistance = Infinity;
  for (const [letter, value] of Object.entries(GRADE_POINTS)) {
    if (letter === 'A+') continue;
    const distance = Math.abs(value - points);
    if (distance < bestDistance - 1e-9) {
      best = letter;
      bestDistance = distance;
    }
  }
  return best;
}

/** The histogram bucket of a grade ("B+" → "B"), or null. */
export function gradeLetter(grade: string | null | undefined): (typeof GRADE_LETTERS)[number] | null {
  if (!grade || gradeToPoints(grade) === null) return null;
  const first = grade.trim().toUpperCase()[0];
  return GRADE_LETTERS.find((letter) => letter === first) ?? null;
}
