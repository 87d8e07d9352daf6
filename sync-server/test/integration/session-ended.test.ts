/**
 * A device signed out from elsewhere learns it at once: the server closes its sockets ("unauthorized"), the
 * client forces a token refresh, and the refresh's refusal reaches `onSessionEnded` (the app then signs the
 * device out with the reason). Before, the cached access token kept the socket retrying until it expired
 * (10 minutes), and the device looked signed in while nothing arrived. Client core against the real server.
 */
import { describe, expect, it } from 'vitest';
import { chatSetup, newDevice, until, type TestUser } from './conversations-helpers.ts';

describe('a session ended elsewhere (postgres)', () => {
  const setup = chatSetup('alice');

  it('is reported on the signed-out device within seconds, and not on the device that did it', async () => {
    const [alice] = setup.users as [TestUser];
    const phone = await newDevice(setup.srv.url, alice.username);
    try {
      let ended = 0;
      let endedHere = 0;
      phone.account.transport.onSessionEnded(() => ended++);
      alice.client.account.transport.onSessionEnded(() => endedHere++);
      // The phone is connected (its inbox synced) before the laptop signs it out.
      await until(() => phone.sync.socket.status === 'connected', 10_000, 'phone connected');
      const phoneSession = phone.account.session!.sessionId;
      const started = Date.now();
      await alice.client.account.revokeSession(phoneSession);
      await until(() => ended > 0, 10_000, 'the phone learns its session ended');
      expect(Date.now() - started).toBeLessThan(10_000);
      // The phone's access token has not expired: only the forced refresh could tell.
      expect(phone.account.session!.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 60_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(endedHere).toBe(0);
    } finally {
      await phone.stop();
    }
  });
});
