/**
 * `p`'s value, or undefined once `ms` passed (the caller goes on; `p` may still settle later). The timer is
 * cleared as soon as `p` settles, so a wait that ended early keeps no timer (and nothing the caller's scope
 * holds) alive until the deadline, and does not hold a Node process open.
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
