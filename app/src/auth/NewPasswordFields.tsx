/**
 * New password + confirmation with the strength meter, shared by register, recover and change password.
 * The parent reads `acceptable()` to enable its submit button.
 */
import { createUniqueId, type Accessor, type JSX } from 'solid-js';
import type { PasswordStrength } from '@parley/shared/client';
import { PasswordField } from '../ui/PasswordField.tsx';
import { StrengthMeter } from '../ui/StrengthMeter.tsx';

/** Props: controlled values, the computed strength and the labels to use. */
export interface NewPasswordFieldsProps {
  password: string;
  confirm: string;
  onPassword: (value: string) => void;
  onConfirm: (value: string) => void;
  strength: PasswordStrength | null;
  label?: string;
}

/** True when the confirmation was typed and differs. */
export function confirmMismatch(password: string, confirm: string): boolean {
  return confirm.length > 0 && confirm !== password;
}

/** Whether a new password may be submitted: strong enough and confirmed. */
export function newPasswordReady(strength: Accessor<PasswordStrength | null>, password: string, confirm: string): boolean {
  return (strength()?.acceptable ?? false) && password.length > 0 && password === confirm;
}

/** See `NewPasswordFieldsProps`. */
export function NewPasswordFields(props: NewPasswordFieldsProps): JSX.Element {
  const meterId = createUniqueId();
  const label = () => props.label ?? 'Password';
  return (
    <>
      <PasswordField
        label={label()}
        name="new-password"
        autocomplete="new-password"
        required
        describedBy={meterId}
        value={props.password}
        onInput={(e) => props.onPassword(e.currentTarget.value)}
      />
      <StrengthMeter id={meterId} strength={props.strength} />
      <PasswordField
        label={`Confirm ${label().toLowerCase()}`}
        name="confirm-password"
        autocomplete="new-password"
        required
        value={props.confirm}
        error={confirmMismatch(props.password, props.confirm) ? 'The passwords do not match.' : null}
        onInput={(e) => props.onConfirm(e.currentTarget.value)}
      />
    </>
  );
}
