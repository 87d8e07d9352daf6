/**
 * Form submission state shared by the account screens: busy flag, KDF progress (0..1 or null) and a
 * user-facing error from `errorText`.
 */
import { createSignal, type Accessor } from 'solid-js';
import { isClientError, type ClientErrorCode } from '@parley/shared/client';
import { errorText } from '../errors.ts';

/** What `createSubmit` gives a form. */
export interface Submit {
  busy: Accessor<boolean>;
  progress: Accessor<number | null>;
  error: Accessor<string | null>;
  setError: (message: string | null) => void;
  /** Runs `task` with a progress callback; sets `error` from whatever it throws. Returns false on failure. */
  run: (task: (onProgress: (fraction: number) => void) => Promise<void>) => Promise<boolean>;
}

/** See `Submit`. `overrides` replaces the generic text for codes that mean something specific on a screen. */
export function createSubmit(overrides: Partial<Record<ClientErrorCode, string>> = {}): Submit {
  const [busy, setBusy] = createSignal(false);
  const [progress, setProgress] = createSignal<number | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const run: Submit['run'] = async (task) => {
    if (busy()) return false;
    setBusy(true);
    setError(null);
    setProgress(null);
    try {
      await task((f) => setProgress(f));
      return true;
    } catch (e) {
      setError((isClientError(e) ? overrides[e.code] : undefined) ?? errorText(e));
      return false;
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };
  return { busy, progress, error, setError, run };
}
