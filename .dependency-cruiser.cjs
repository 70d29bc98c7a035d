// Folder boundaries from docs/architecture.md: a folder may import folders below it in LAYERS,
// never above. Plus: no import cycles, the TUI never touches hosts/git/child processes,
// the daemon never touches React, and src/testing is for tests only.
const LAYERS = [
  'cli',
  'tui',
  'client',
  'daemon',
  'review',
  'providers',
  'hosts',
  'queue',
  'spec',
  'git',
  'config',
  'core',
  'lib',
];

const upward = LAYERS.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `src/${layer} may only import folders below it: ${LAYERS.slice(i + 1).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(0, i).join('|') || '__none__'})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...upward,
    {
      name: 'tui-no-processes',
      comment: 'The TUI is a client: no hosts/, git/ or child processes.',
      severity: 'error',
      from: { path: '^src/tui/' },
      to: { path: '^(src/(hosts|git)/|child_process$|node:child_process$|execa)' },
    },
    {
      name: 'tui-reads-through-client',
      comment:
        'client/ is the only read model: the TUI reads daemon state, providers and tasks through it, ' +
        'and imports only client/, core/ and lib/ (the types it needs are re-exported by client/).',
      severity: 'error',
      from: { path: '^src/tui/' },
      to: { path: '^src/', pathNot: '^src/(tui|client|core|lib)/' },
    },
    {
      name: 'tui-no-io',
      comment:
        'The TUI reads no files and spawns no terminals itself: the watcher (chokidar), node-pty and ' +
        'the file reads live in client/live/. Only app/run.tsx appends to its slow-frame debug log.',
      severity: 'error',
      from: { path: '^src/tui/', pathNot: '^src/tui/app/run\\.tsx$' },
      to: {
        path: '^((node:)?fs(/promises)?|node-pty|@xterm/headless|chokidar)$|node_modules/(node-pty|@xterm/headless|chokidar)/',
      },
    },
    {
      name: 'cli-starts-daemon-only',
      comment:
        'The CLI reads daemon state through client/ (daemonState(), providersView); only the commands ' +
        'that run a supervisor in this process (daemon-run.ts, demo-run.ts) import daemon/.',
      severity: 'error',
      from: { path: '^src/cli/', pathNot: '^src/cli/commands/(daemon-run|demo-run)\\.ts$' },
      to: { path: '^src/daemon/' },
    },
    {
      name: 'cli-reads-through-client',
      comment:
        'The CLI reads tasks, toggles and the lock through client/; only init.ts (which creates the ' +
        'queue layout) and lint.ts (which reads spec files without following links) use queue/.',
      severity: 'error',
      from: { path: '^src/cli/', pathNot: '^src/cli/commands/(init|lint)\\.ts$' },
      to: { path: '^src/queue/' },
    },
    {
      name: 'core-is-pure',
      comment: 'core/ has no fs, no processes, no React.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core', 'npm'], pathNot: '^(zod)' },
    },
    {
      name: 'daemon-no-react',
      severity: 'error',
      from: { path: '^src/(daemon|review|providers|hosts|queue|git|config|core|lib|spec)/' },
      to: { path: '(^|/)node_modules/(react|ink)/' },
    },
    {
      name: 'testing-only-in-tests',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
