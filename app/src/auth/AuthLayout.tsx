/** The centred card every signed-out screen uses: a title, a lead sentence, the form, and footer links. */
import type { JSX } from 'solid-js';

/** Props: the screen's h1, a one-line lead, the body and optional footer links. */
export interface AuthLayoutProps {
  title: string;
  lead?: string;
  children: JSX.Element;
  footer?: JSX.Element;
}

/** See `AuthLayoutProps`. */
export function AuthLayout(props: AuthLayoutProps): JSX.Element {
  return (
    <div class="auth">
      <section class="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title" class="auth-title">
          {props.title}
        </h1>
        {props.lead ? <p class="auth-lead">{props.lead}</p> : null}
        {props.children}
      </section>
      {props.footer ? <nav class="auth-footer" aria-label="Account">{props.footer}</nav> : null}
    </div>
  );
}
