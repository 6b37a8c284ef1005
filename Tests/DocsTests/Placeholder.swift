// Filled by the docs checks.
