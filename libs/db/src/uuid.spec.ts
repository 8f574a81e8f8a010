import { isUuid } from './uuid';

describe('isUuid', () => {
  it('takes the text form of any uuid, in either case, and nothing else', () => {
    expect(isUuid('00000000-0000-4000-8000-000000000000')).toBe(true);
    expect(isUuid('0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0')).toBe(true);
    for (const s of [
      '',
      'lanes',
      '00000000-0000-4000-8000-00000000000',
      '{00000000-0000-4000-8000-000000000000}',
      '00000000000040008000000000000000',
      '00000000-0000-4000-8000-000000000000\n',
    ])
      expect(isUuid(s)).toBe(false);
  });
});
