/**
 * Runs the app only in the tab that holds the device (see tab-lock.ts); any other tab shows why not and offers
 * to move Parley here.
 */
import { Match, Switch, type JSX } from 'solid-js';
import { AuthLayout } from '../auth/AuthLayout.tsx';
import { Loading } from '../ui/Loading.tsx';
import { tabStatus, useHere } from './tab-lock.ts';

/** Props: the app, rendered while this tab is the active one. */
export interface TabGateProps {
  children: JSX.Element;
}

/** See the module comment. */
export function TabGate(props: TabGateProps): JSX.Element {
  return (
    <Switch>
      <Match when={tabStatus() === 'active'}>{props.children}</Match>
      <Match when={tabStatus() === 'checking'}>
        <Loading label="Opening Parley…" />
      </Match>
      <Match when={tabStatus() === 'handing-over'}>
        <Loading label="Moving Parley to the other tab…" />
      </Match>
      <Match when={tabStatus() === 'elsewhere' || tabStatus() === 'switching'}>
        <AuthLayout title="Parley is open in another tab" lead="Parley runs in one tab or window at a time on this device, so your messages and keys stay in step. Close the other one, or use Parley here: the other tab stops.">
          <button type="button" class="btn btn-primary btn-block" disabled={tabStatus() === 'switching'} onClick={() => useHere()}>
            {tabStatus() === 'switching' ? 'Moving Parley here…' : 'Use here'}
          </button>
        </AuthLayout>
      </Match>
    </Switch>
  );
}
