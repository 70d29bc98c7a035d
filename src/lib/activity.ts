/**
 * What the process has done, counted: processes it spawned (every runner command, git, gate and gh
 * call notes one). The daemon reads the count around its ticks to report what it did while nothing
 * happened (daemon.activity events, bench/idle.js): an idle daemon should spawn nothing.
 */
let spawned = 0;

/** Called once per child process started. */
export function noteSpawn(): void {
  spawned += 1;
}

/** Processes spawned since this process started. */
export function spawnedSoFar(): number {
  return spawned;
}
