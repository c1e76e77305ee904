// Opens the database while the rest of the app's modules are still loading: a module script of
// its own runs as soon as this file and db.js are in, and main.js later shares the same open.
import { openDb } from './db.js';

openDb().catch(() => {}); // main.js's first read waits on this same open and reports its error
