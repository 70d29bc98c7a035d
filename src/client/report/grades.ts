/** Letter grades (the architect's scale, core/grades.ts) as points on a 4.0 scale, and back. */
import { GRADES, gradePoints, isGrade } from '../../core/grades.js';

/** The letters a histogram shows, best first; each grade counts under its first letter. */
export const GRADE_LETTERS = ['A', 'B', 'C', 'D', 'F'] as const;

/** Points for a grade, or null when the text is not a grade. */
export function gradeToPoints(grade: string | null | undefined): number | null {
  const text = grade?.trim().toUpperCase();
  return isGrade(text) ? gradePoints(text) : null;
}

/** The grade whose points are nearest (ties go to the better grade). */
export function pointsToGrade(points: number): string {
  let best = 'F';
  let bestDistance = Infinity;
  for (const letter of GRADES) {
    const distance = Math.abs(gradePoints(letter) - points);
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
