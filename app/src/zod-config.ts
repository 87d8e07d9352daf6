/**
 * Must be imported before any zod schema parses: zod's object fast path probes `new Function`, which the
 * CSP (script-src 'self', no 'unsafe-eval') blocks and reports as a violation. Jitless mode skips the probe.
 */
import { z } from 'zod';

z.config({ jitless: true });
