/** The model ids nightshift names itself (config/models.ts) are current: none the SDK calls deprecated. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_TEMPLATE } from '../../src/cli/commands/init.js';
import { DEFAULT_ARCHITECT_MODEL } from '../../src/config/models.js';
import { configSchema } from '../../src/config/schema.js';

// The SDK's own table (the one behind its "is deprecated and will reach end-of-life" warning); not in its
// public exports, so read by path.
const table = fileURLToPath(
  new URL('../../node_modules/@anthropic-ai/sdk/internal/data/deprecated-models.js', import.meta.url),
);
const { DEPRECATED_MODELS } = createRequire(import.meta.url)(table) as {
  DEPRECATED_MODELS: Record<string, string>;
};

describe('the models nightshift names', () => {
  it('are none the Anthropic SDK announces as deprecated, and the default and the template agree', () => {
    expect(Object.keys(DEPRECATED_MODELS).length).toBeGreaterThan(0);
    expect(DEPRECATED_MODELS).not.toHaveProperty(DEFAULT_ARCHITECT_MODEL);
    expect(configSchema.parse({}).architect.model).toBe(DEFAULT_ARCHITECT_MODEL);
    expect(CONFIG_TEMPLATE).toContain(`model: ${DEFAULT_ARCHITECT_MODEL}\n`);
  });
});
