/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  // middy, a few AWS helpers and tinybench (the benchmark's timer) ship ESM only: swc turns them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|tinybench)/)'],
  // middy's package exports only an `import` condition, which jest's CommonJS resolver cannot see.
  moduleNameMapper: { '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
};
