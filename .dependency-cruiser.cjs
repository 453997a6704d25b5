// The dependency direction of the code (issue #17; README "Layout"). `npm run lint` runs
// `depcruise` with these rules; test/unit/architecture.test.ts plants an import against each
// direction and checks that the rules refuse it. `npm run architecture` draws docs/architecture.svg.
//
//   shared/domain   pure rules and types: imports nothing outside the domain (zod for validation,
//                   node:crypto, and the pipeline definition it sizes leases from are allowed)
//   shared/ports    the interfaces the flows need: imports the domain only
//   shared/config   reads files (fs, YAML): imports the domain
//   shared/core     the flows: domain and ports (and the logger)
//   shared/aws      the AWS adapters: ports, domain and the AWS SDK
//   functions/      Lambda handlers: wire config, core and adapters
//   local/          the local product (runtime, twins, engines, demo, watcher, query): may use all of
//                   the above, never cli/
//   console/        the run console (medallion ui / report): reads the local lake through local/
//   cli/, bin/      the `medallion` command: may use console/, local/ and everything below
//   stack/          the deployable stack: domain, config
//   bench/, test/   may use production code; bench imports no test code but two input helpers
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one; split what both need into a third.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'The domain imports nothing outside the domain (its types included).',
      from: { path: '^shared/domain/' },
      to: {
        pathNot: [
          '^shared/domain/',
          '^state-machines/[^/]+[.]asl[.]json$',
          '^node_modules/zod/',
          '^node:crypto$',
          '^crypto$',
        ],
      },
    },
    {
      name: 'ports-import-the-domain-only',
      severity: 'error',
      from: { path: '^shared/ports[.]ts$' },
      to: { pathNot: ['^shared/domain/'] },
    },
    {
      name: 'core-uses-domain-and-ports',
      severity: 'error',
      comment: 'The flows see the outside world through ports only.',
      from: { path: '^shared/core/' },
      to: { pathNot: ['^shared/(domain|core)/', '^shared/ports[.]ts$', '^shared/logger[.]ts$'] },
    },
    {
      name: 'adapters-use-ports-and-domain',
      severity: 'error',
      from: { path: '^shared/aws/' },
      to: {
        pathNot: [
          '^shared/(domain|aws)/',
          '^shared/ports[.]ts$',
          '^shared/logger[.]ts$',
          '^node_modules/@aws-sdk/',
          '^node_modules/@smithy/',
        ],
      },
    },
    {
      name: 'config-reads-files-for-the-domain',
      severity: 'error',
      from: { path: '^shared/config/' },
      to: { path: '^shared/(core|aws)/|^shared/ports[.]ts$' },
    },
    {
      name: 'shared-is-below-everything',
      severity: 'error',
      comment: 'What the Lambdas ship depends on no handler, local code, CLI, stack, benchmark or test.',
      from: { path: '^shared/' },
      to: { path: '^(functions|local|console|cli|bin|stack|bench|test)/' },
    },
    {
      name: 'handlers-wire-shared-code-only',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(local|console|cli|bin|stack|bench|test)/' },
    },
    {
      name: 'local-is-below-the-cli',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^(cli|bin|console|stack|bench|test)/' },
    },
    {
      name: 'console-is-below-the-cli',
      severity: 'error',
      comment: 'The run console (medallion ui / report) reads the local lake; the CLI serves it.',
      from: { path: '^console/' },
      to: { path: '^(cli|bin|functions|stack|bench|test)/' },
    },
    {
      name: 'cli-uses-no-tests-or-benchmarks',
      severity: 'error',
      from: { path: '^(cli|bin)/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'stack-uses-domain-and-config',
      severity: 'error',
      from: { path: '^stack/' },
      to: { path: '^(functions|local|console|cli|bin|bench|test)/|^shared/(core|aws)/' },
    },
    {
      name: 'bench-uses-no-tests',
      severity: 'error',
      comment:
        'The benchmark measures production code. Two test helpers are its inputs too (recorded AWS event ' +
        'shapes; the state-machine harness whose run it counts transitions of): those two, nothing else.',
      from: { path: '^bench/' },
      to: { path: '^test/', pathNot: ['^test/helpers/fixtures[.]ts$', '^test/state-machines/harness[.]ts$'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|[.]serverless|[.]esbuild|[.]lake|[.]demo-lake|[.]venv)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.cjs', '.mjs', '.js', '.json', '.d.ts'],
    },
  },
};
