/**
 * Password strength meter: four segments for zxcvbn's score 0..4 plus feedback text in a polite live
 * region. Scoring runs in `createPasswordStrength` (debounced; zxcvbn's dictionaries load lazily on the
 * first keystroke, as a separate chunk).
 */
import { createEffect, createSignal, For, onCleanup, Show, type Accessor, type JSX } from 'solid-js';
import { checkPasswordStrength, PASSWORD_MIN_LENGTH, type PasswordProblem, type PasswordStrength } from '@parley/shared/client';

const LABELS = ['Too weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

const PROBLEM_TEXT: Record<PasswordProblem, string> = {
  too_short: `Use at least ${PASSWORD_MIN_LENGTH} characters.`,
  too_long: 'That is longer than we accept.',
  contains_username: 'Do not include your username.',
  common: 'This is a commonly used password.',
  too_guessable: 'Add more words or characters that are hard to guess.',
};

/** Reactive strength of `password()` for `username()`; null while empty or still scoring the first time. */
export function createPasswordStrength(password: Accessor<string>, username: Accessor<string>): Accessor<PasswordStrength | null> {
  const [result, setResult] = createSignal<PasswordStrength | null>(null);
  let seq = 0;
  createEffect(() => {
    const pw = password();
    const user = username();
    const mine = ++seq;
    if (pw.length === 0) {
      setResult(null);
      return;
    }
    const timer = setTimeout(() => {
      checkPasswordStrength(pw, { username: user }).then(
        (r) => {
          if (mine === seq) setResult(r);
        },
        () => {
          if (mine === seq) setResult(null);
        },
      );
    }, 120);
    onCleanup(() => clearTimeout(timer));
  });
  return result;
}

/** Props: the strength (null hides the meter) and the id that the password input references. */
export interface StrengthMeterProps {
  strength: PasswordStrength | null;
  id: string;
}

/** See `StrengthMeterProps`. */
export function StrengthMeter(props: StrengthMeterProps): JSX.Element {
  const score = () => props.strength?.score ?? 0;
  const advice = () => {
    const s = props.strength;
    if (!s) return '';
    if (s.acceptable) return s.score >= 4 ? 'Great password.' : 'Good password.';
    const first = s.problems[0];
    return [first ? PROBLEM_TEXT[first] : null, s.warning ? `${s.warning}.`.replace('..', '.') : null]
      .filter(Boolean)
      .join(' ');
  };
  return (
    <div class="strength" id={props.id}>
      <div class="strength-bar" aria-hidden="true">
        <For each={[1, 2, 3, 4]}>
          {(i) => <span class={`strength-seg ${props.strength && score() >= i ? `on s${score()}` : ''}`} />}
        </For>
      </div>
      <p class="strength-text" aria-live="polite">
        <Show when={props.strength} fallback={`At least ${PASSWORD_MIN_LENGTH} characters; a few unusual words work well.`}>
          <strong>{LABELS[score()]}.</strong> {advice()}
        </Show>
      </p>
    </div>
  );
}
