import { describe, expect, it } from 'vitest';
import { colorDisabled } from '../../src/lib/color.js';

describe('the one colour decision (lib/color.ts), for the CLI and the TUI', () => {
  it('turns colour off for NO_COLOR set and not empty (no-color.org), and for FORCE_COLOR=0 or false', () => {
    expect(colorDisabled({})).toBe(false);
    expect(colorDisabled({ NO_COLOR: '1' })).toBe(true);
    expect(colorDisabled({ NO_COLOR: 'yes please' })).toBe(true);
    expect(colorDisabled({ NO_COLOR: '' })).toBe(false);
    expect(colorDisabled({ FORCE_COLOR: '0' })).toBe(true);
    expect(colorDisabled({ FORCE_COLOR: 'false' })).toBe(true);
    expect(colorDisabled({ FORCE_COLOR: '1' })).toBe(false);
  });
});
