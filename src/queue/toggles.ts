/**
 * Persisted toggles (freeze, per-provider freeze, gate switches) in queue/state/toggles.json,
 * kept by `conf` (atomic writes, mode 0600).
 */
import path from 'node:path';
import Conf from 'conf';
import { GATE_NAMES, type GateName } from '../core/gates.js';
import type { WorkspacePaths } from '../config/paths.js';
import { ensureDir, existsNoFollow, readRegularFile } from './fsx.js';

export interface Toggles {
  frozen: boolean;
  frozenProviders: string[];
  /** Explicit on/off overrides of the config's `enabled` flags. */
  gates: Partial<Record<GateName, boolean>>;
}

const DEFAULTS: Toggles = { frozen: false, frozenProviders: [], gates: {} };

export class ToggleStore {
  private readonly conf: Conf<Toggles>;

  constructor(paths: WorkspacePaths) {
    // conf reads and may write its file as soon as it is built: queue/state must be a real directory
    // first, and toggles.json a plain file (conf's reads would follow a link).
    ensureDir(paths.queue);
    ensureDir(paths.stateStore, 0o700);
    const file = path.join(paths.stateStore, 'toggles.json');
    if (existsNoFollow(file)) readRegularFile(file, 1024 * 1024);
    this.conf = new Conf<Toggles>({
      cwd: paths.stateStore,
      configName: 'toggles',
      defaults: DEFAULTS,
      configFileMode: 0o600,
      clearInvalidConfig: false,
      projectSuffix: '',
    });
  }

  read(): Toggles {
    const frozenProviders = this.conf.get('frozenProviders');
    const gates = this.conf.get('gates');
    return {
      frozen: this.conf.get('frozen') === true,
      frozenProviders: Array.isArray(frozenProviders)
        ? frozenProviders.filter((p) => typeof p === 'string')
        : [],
      gates: Object.fromEntries(
        Object.entries(gates ?? {}).filter(
          ([k, v]) => (GATE_NAMES as readonly string[]).includes(k) && typeof v === 'boolean',
        ),
      ),
    };
  }

  setFrozen(frozen: boolean, provider: string | null): void {
    if (provider === null) {
      this.conf.set('frozen', frozen);
      return;
    }
    const current = new Set(this.read().frozenProviders);
    if (frozen) current.add(provider);
    else current.delete(provider);
    this.conf.set('frozenProviders', [...current].sort());
  }

  setGate(name: GateName, enabled: boolean): void {
    this.conf.set('gates', { ...this.read().gates, [name]: enabled });
  }
}
