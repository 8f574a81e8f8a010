import { hashPassword, passwordProblems, verifyPasswordOrDummy } from './password';

describe('argon2id passwords', () => {
  it('hashes with argon2id and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^\$argon2id\$v=19\$/);
    expect(await verifyPasswordOrDummy(h, 'correct horse battery staple')).toBe(true);
    expect(await verifyPasswordOrDummy(h, 'Correct horse battery staple')).toBe(false);
  });

  it('returns false, after the same work, when there is no hash or it is corrupt', async () => {
    expect(await verifyPasswordOrDummy(null, 'anything')).toBe(false);
    expect(await verifyPasswordOrDummy('not-a-hash', 'anything')).toBe(false);
  });

  it('reports every problem of a new password', () => {
    expect(passwordProblems('short')).toEqual(['password must be at least 12 characters']);
    expect(passwordProblems('x'.repeat(2000))).toEqual([
      'password must be at most 1024 characters',
    ]);
    expect(passwordProblems('long enough password')).toEqual([]);
  });
});
