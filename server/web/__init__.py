"""The HTTP edges: the sync API, the supervisor console, the PWA's files, health checks,
security headers and the request log. They parse, call the core, render."""
