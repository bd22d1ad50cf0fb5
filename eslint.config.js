// ESLint (flat config) with typescript-eslint; formatting is Prettier's (`npm run format`), so no style rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', 'test/**/output/', 'bench/.cache/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // gpu.js infers a variable's type from its first assignment, so kernels initialise what they then set;
    // the normal CDF's coefficients are the published ones, digit for digit
    files: ['kernels/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-useless-assignment': 'off', 'no-loss-of-precision': 'off' },
  },
  {
    // tests match messages with literal spaces and NUL bytes on purpose
    files: ['test/**/*.ts'],
    rules: { 'no-regex-spaces': 'off', 'no-control-regex': 'off' },
  },
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // kernels/ and hot loops use `!` on typed-array reads the checker cannot prove in range
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
    },
  },
);
