/**
 * Routes. Signed-out screens (/signin, /register, /recover) and signed-in ones (/, /settings; /profile opens "Your
 * profile" on /) redirect to each other by session state; `/` lazy-loads the chat so its code stays out of the
 * first load.
 */
import { lazy, Match, Show, Suspense, Switch, type Component, type JSX } from 'solid-js';
import { Navigate, Route, Router } from '@solidjs/router';
import { Recover } from './auth/Recover.tsx';
import { Register } from './auth/Register.tsx';
import { SignIn } from './auth/SignIn.tsx';
import { sessionState, signedIn } from './session.ts';
import { Settings } from './settings/Settings.tsx';
import { Shell } from './shell/Shell.tsx';
import { Loading } from './ui/Loading.tsx';

const ChatApp = lazy(() => import('./chat/ChatApp.tsx').then((m) => ({ default: m.ChatApp })));

/** Renders `page` only when signed in; otherwise sends the user to /signin. */
function signedInOnly(page: Component): Component {
  return () => (
    <Switch>
      <Match when={sessionState().status === 'loading'}>
        <Loading label="Opening Parley…" />
      </Match>
      <Match when={sessionState().status === 'signed-out'}>
        <Navigate href="/signin" />
      </Match>
      <Match when={signedIn()}>{page({})}</Match>
    </Switch>
  );
}

/** Renders `page` only when signed out; otherwise goes to the conversations. */
function signedOutOnly(page: Component): Component {
  return () => (
    <Switch>
      <Match when={sessionState().status === 'loading'}>
        <Loading label="Opening Parley…" />
      </Match>
      <Match when={sessionState().status === 'signed-in'}>
        <Navigate href="/" />
      </Match>
      <Match when={sessionState().status === 'signed-out'}>{page({})}</Match>
    </Switch>
  );
}

function Home(): JSX.Element {
  return (
    <Suspense fallback={<Loading label="Loading your conversations…" />}>
      <Show when={signedIn()}>{(s) => <ChatApp session={s()} />}</Show>
    </Suspense>
  );
}

function NotFound(): JSX.Element {
  return <Navigate href="/" />;
}

/** The whole app. */
export function App(): JSX.Element {
  return (
    <Router root={Shell}>
      <Route path="/" component={signedInOnly(Home)} />
      <Route path="/settings" component={signedInOnly(Settings)} />
      <Route path="/profile" component={() => <Navigate href="/?dialog=profile" />} />
      <Route path="/signin" component={signedOutOnly(SignIn)} />
      <Route path="/register" component={signedOutOnly(Register)} />
      <Route path="/recover" component={signedOutOnly(Recover)} />
      <Route path="*" component={NotFound} />
    </Router>
  );
}
