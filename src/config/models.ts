/**
 * The model ids nightshift itself names (defaults and the `init` template): the one place to change when
 * a model is retired. A test fails when the Anthropic SDK announces one of them as deprecated.
 */
export const DEFAULT_ARCHITECT_MODEL = 'claude-sonnet-5-5';
