import { RecentReplies } from './recent-replies.js';

const reply = (id: string, value: unknown) => ({
  id,
  success: true,
  returnValue: value,
  errorCode: null,
  errorMessage: null,
  executionTimeMs: 1,
  position: '1',
});

describe('RecentReplies', () => {
  it('is bounded in bytes however big the replies and however many agents', () => {
    const cache = new RecentReplies(4 * 1024 * 1024);
    const big = 'x'.repeat(200 * 1024); // a read of a 200 KiB file
    for (let agent = 0; agent < 1000; agent++) {
      for (let i = 0; i < 64; i++) cache.set(`agent-${agent}`, `r${i}`, reply(`r${i}`, big));
    }
    expect(cache.bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(cache.size).toBeGreaterThan(0);
    // the newest are kept, the oldest are gone
    expect(cache.get('agent-999', 'r63')?.returnValue).toBe(big);
    expect(cache.get('agent-0', 'r0')).toBeUndefined();
  });

  it('does not let one huge reply flush the rest', () => {
    const cache = new RecentReplies(1024 * 1024);
    cache.set('a', '1', reply('1', 'small'));
    cache.set('a', '2', reply('2', 'y'.repeat(600 * 1024)));
    expect(cache.get('a', '1')?.returnValue).toBe('small');
    expect(cache.get('a', '2')).toBeUndefined();
  });

  it('keys by agent and id, so agents cannot see each other’s replies', () => {
    const cache = new RecentReplies(1024 * 1024);
    cache.set('a', 'same', reply('same', 'for a'));
    cache.set('b', 'same', reply('same', 'for b'));
    expect(cache.get('a', 'same')?.returnValue).toBe('for a');
    expect(cache.get('b', 'same')?.returnValue).toBe('for b');
    expect(cache.get('a', '__proto__')).toBeUndefined();
  });
});
