// The token manager on a fake clock: when it asks the site for a token, and that it asks once
// however many callers need one at the same moment.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const load = require('./load');
const fakeClock = require('./fake_clock');

const { createTokenManager, REFRESH_LEAD_MS } = load();
const MIN = 60 * 1000;
const settle = () => new Promise((r) => setImmediate(r));

function jwt(expSeconds) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub: 'cu_1', exp: expSeconds })}.c2ln`;
}

/** A getToken that counts its calls, hands out tok1, tok2, ... and can be held open. */
function site(clock, lifetimeMs = 60 * MIN) {
  const s = { calls: 0, gate: null };
  s.getToken = async () => {
    s.calls++;
    const n = s.calls;
    if (s.gate) await s.gate;
    return { token: `tok${n}`, expiresAt: new Date(clock.now() + lifetimeMs).toISOString() };
  };
  return s;
}

function manager(clock, getToken) {
  return createTokenManager({ getToken, now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
}

test('the lead time is five minutes', () => {
  assert.equal(REFRESH_LEAD_MS, 5 * MIN);
});

test('asks for a token only when one is first needed, and once for simultaneous callers', async () => {
  const clock = fakeClock();
  const s = site(clock);
  const tm = manager(clock, s.getToken);
  await settle();
  assert.equal(s.calls, 0);
  const got = await Promise.all([tm.token(), tm.token(), tm.token()]);
  assert.deepEqual(got, ['tok1', 'tok1', 'tok1']);
  assert.equal(s.calls, 1);
  assert.equal(await tm.token(), 'tok1');
  assert.equal(s.calls, 1);
});

test('refreshes five minutes before expiresAt, not a millisecond earlier', async () => {
  const clock = fakeClock();
  const s = site(clock, 60 * MIN);
  const tm = manager(clock, s.getToken);
  await tm.token();
  clock.advance(55 * MIN - 1);
  await settle();
  assert.equal(s.calls, 1);
  clock.advance(1);
  await settle();
  assert.equal(s.calls, 2);
  assert.equal(await tm.token(), 'tok2');
  // and again for the new token, 55 minutes after it came
  clock.advance(55 * MIN);
  await settle();
  assert.equal(s.calls, 3);
});

test('a token from getToken as a bare JWT is scheduled by its exp claim', async () => {
  const clock = fakeClock();
  let calls = 0;
  const tm = manager(clock, () => { calls++; return jwt(clock.now() / 1000 + 3600); });
  await tm.token();
  clock.advance(55 * MIN - 1);
  await settle();
  assert.equal(calls, 1);
  clock.advance(1);
  await settle();
  assert.equal(calls, 2);
});

test('a token that lives less than five minutes is renewed half-way, not in a loop', async () => {
  const clock = fakeClock();
  const s = site(clock, 2 * MIN);
  const tm = manager(clock, s.getToken);
  await tm.token();
  await settle();
  assert.equal(s.calls, 1);
  clock.advance(MIN - 1);
  await settle();
  assert.equal(s.calls, 1);
  clock.advance(1);
  await settle();
  assert.equal(s.calls, 2);
});

test('a 30-day token: timers longer than setTimeout allows still fire on time', async () => {
  const clock = fakeClock();
  const s = site(clock, 30 * 24 * 60 * MIN);
  const tm = manager(clock, s.getToken);
  await tm.token();
  clock.advance(30 * 24 * 60 * MIN - 5 * MIN - 1);
  await settle();
  assert.equal(s.calls, 1, 'no early refresh from a wrapped-around timer');
  clock.advance(1);
  await settle();
  assert.equal(s.calls, 2);
});

test('the same token handed back does not reschedule (the demo page case)', async () => {
  const clock = fakeClock();
  let calls = 0;
  const expiresAt = new Date(clock.now() + 10 * MIN).toISOString();
  const tm = manager(clock, () => { calls++; return { token: 'only', expiresAt }; });
  await tm.token();
  clock.advance(5 * MIN);
  await settle();
  assert.equal(calls, 2);
  assert.equal(clock.pending(), 0);
  clock.advance(4 * MIN);
  await settle();
  assert.equal(calls, 2);
});

test('after a 401, one refresh is shared by every request that failed with that token', async () => {
  const clock = fakeClock();
  const s = site(clock);
  const tm = manager(clock, s.getToken);
  const used = await tm.token();
  let open;
  s.gate = new Promise((r) => { open = r; });
  // three requests sent with tok1 come back 401 while the refresh is under way
  const renewals = [tm.renew(used), tm.renew(used), tm.renew(used)];
  await settle();
  assert.equal(s.calls, 2);
  const meanwhile = tm.token(); // a new request waits for the refresh too
  open();
  assert.deepEqual(await Promise.all(renewals), ['tok2', 'tok2', 'tok2']);
  assert.equal(await meanwhile, 'tok2');
  // a late 401 for tok1 (its request was slower) takes tok2 without asking again
  assert.equal(await tm.renew(used), 'tok2');
  assert.equal(s.calls, 2);
  // but a 401 for tok2 itself asks again
  assert.equal(await tm.renew('tok2'), 'tok3');
  assert.equal(s.calls, 3);
});

test('an expired token is replaced before it is sent', async () => {
  const clock = fakeClock();
  const s = site(clock, 60 * MIN);
  const tm = createTokenManager({ getToken: s.getToken, now: clock.now, setTimeout: () => 0, clearTimeout: () => {} });
  await tm.token();
  clock.advance(61 * MIN); // the timer never ran (a laptop asleep)
  assert.equal(await tm.token(), 'tok2');
});

test('a failing getToken is reported and tried again on the next call', async () => {
  const clock = fakeClock();
  let calls = 0;
  const tm = manager(clock, async () => {
    calls++;
    if (calls === 1) throw new Error('back end down');
    return 'opaque-token';
  });
  await assert.rejects(tm.token(), (e) => e.kind === 'token' && /try again/.test(e.message));
  assert.equal(await tm.token(), 'opaque-token');
  assert.equal(calls, 2);
});

test('a bad value from getToken is refused with a message naming the contract', async () => {
  const tm = manager(fakeClock(), () => 42);
  await assert.rejects(tm.token(), (e) => e.kind === 'token' && /getToken\(\) must return/.test(e.message));
});

test('an opaque token learns its expiry from the session, and stop() cancels the timer', async () => {
  const clock = fakeClock();
  let calls = 0;
  const tm = manager(clock, () => { calls++; return 'opaque'; });
  await tm.token();
  assert.equal(clock.pending(), 0);
  tm.learnExpiry(new Date(clock.now() + 20 * MIN).toISOString());
  assert.equal(clock.pending(), 1);
  clock.advance(15 * MIN);
  await settle();
  assert.equal(calls, 2);
  tm.learnExpiry(new Date(clock.now() + 20 * MIN).toISOString()); // known now: ignored
  tm.stop();
  assert.equal(clock.pending(), 0);
  await assert.rejects(tm.renew('opaque'));
});
