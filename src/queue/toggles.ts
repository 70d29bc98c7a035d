/**
 * Persisted toggles (freeze, per-provider freeze, gate switches) in queue/state/toggles.json,
 * kept by `conf` (atomic writes, mode 0600).
 */
import Conf from 'conf';
import { GATE_NAMES, type GateName } from '../core/gates.js';
import type { WorkspacePaths } from '../config/paths.js';

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
