/**
 * The engine's layers as data (`npm run lint:deps`, run by `npm run lint` and CI). Each folder of src/ has
 * a rank; a module may import its own folder and folders of a lower rank, never one of its own rank or
 * above. kernels/ and the bottom folders import nothing above them. docs/architecture.md, "Layers".
 *
 *   cli                                  10
 *   pipeline, generate, page              9
 *   report                                8
 *   margin, pricing                       7
 *   engine                                6
 *   scenarios                             5
 *   params, history, importers, surface   4
 *   io                                    2
 *   model                                 1
 *   util, random, errors.ts, kernels/     0
 */
const RANK = {
  cli: 10,
  serve: 9,
  pipeline: 9,
  generate: 9,
  page: 9,
  report: 8,
  margin: 7,
  pricing: 7,
  engine: 6,
  scenarios: 5,
  params: 4,
  history: 4,
  importers: 4,
  surface: 4,
  io: 2,
  model: 1,
  util: 0,
  random: 0,
};

const layerRules = Object.entries(RANK).flatMap(([folder, rank]) => {
  const notBelow = Object.entries(RANK)
    .filter(([other, r]) => other !== folder && r >= rank)
    .map(([other]) => other);
  const to = [];
  if (notBelow.length > 0) to.push(`^src/(${notBelow.join('|')})/`);
  if (rank === 0) to.push('^src/errors\\.ts$');
  if (to.length === 0) return [];
  return {
    name: `layer-${folder}`,
    comment: `src/${folder} (rank ${rank}) imports only folders of a lower rank (.dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: to.length === 1 ? to[0] : `(${to.join('|')})` },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'kernels-import-nothing',
      comment: 'kernels/ are plain functions that gpu.js transpiles: they import only each other',
      severity: 'error',
      from: { path: '^kernels/' },
      to: { pathNot: '^kernels/' },
    },
    {
      name: 'errors-import-nothing',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^(src|kernels)/' },
    },
    {
      name: 'no-circular',
      comment: 'no file imports itself through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'piscina-only-in-the-cpu-backend',
      comment: 'the worker pool is an implementation detail of the cpu backend and its scheduler',
      severity: 'error',
      from: { pathNot: '^src/engine/cpu' },
      to: { path: 'node_modules/piscina/' },
    },
    {
      name: 'duckdb-only-in-the-report',
      severity: 'error',
      from: { pathNot: '^(src/report/|test/|bench/)' },
      to: { path: 'node_modules/@duckdb/' },
    },
    {
      name: 'not-to-test-or-bench',
      comment: 'the engine never imports its tests or benchmarks',
      severity: 'error',
      from: { path: '^(src|kernels)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
