/** One of `nightshift doctor`'s checks: what was checked where, whether it passed, and the fix. */
export interface DoctorCheck {
  /**
   * `gates`: the supervisor's own gate isolation (docs/gates.md#isolation); `architect`: the claude-code
   * architect's CLI (docs/architect.md).
   */
  scope: 'host' | 'provider' | 'repo' | 'workspace' | 'gates' | 'architect';
  name: string;
  host: string;
  check: string;
  ok: boolean;
  /** Warnings do not fail the doctor. */
  level: 'error' | 'warning';
  detail: string;
  fix: string | null;
}
