import { formatIp, parseIp } from './ip';

const roundTrip = (text: string) => {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
};

describe('IP text like Go net.ParseIP / net.IP.String', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['2001:0DB8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::1', '::1'],
    ['::', '::'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::192.168.1.1', '::c0a8:101'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('%s → %s', (text, expected) => {
    expect(roundTrip(text)).toBe(expected);
  });

  it.each([
    '01.2.3.4',
    '1.2.3',
    '256.1.1.1',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'fe80::1%eth0',
    '1:2:3:4:5:6::1.2.3.4',
    'host',
    '',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});
