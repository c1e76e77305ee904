// ESLint for the field app and its Node unit tests (`make lint`); see package.json.
import js from '@eslint/js';
import globals from 'globals';

export default [
  // Vendored releases (scripts/vendor-webapp) are checked against npm's copy, not linted.
  { ignores: ['webapp/js/vendor/**'] },
  js.configs.recommended,
  {
    files: ['webapp/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.es2023, ...globals.browser },
    },
  },
  {
    // Only the worker itself may use the service worker's globals (clients, registration…).
    files: ['webapp/service-worker.js'],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
  {
    files: ['tests/webapp/unit/**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.es2023, ...globals.node },
    },
  },
];
