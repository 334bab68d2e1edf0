import { MOUNTS } from './mounts.js';
import { resolveVfsPath } from './vfs-path.js';

describe('resolveVfsPath', () => {
  it('accepts a path inside a mount and says which mount', () => {
    expect(resolveVfsPath('/mem/working/notes.txt')).toEqual({
      ok: true,
      path: '/mem/working/notes.txt',
      mount: '/mem/working',
      readOnly: false,
      isMountRoot: false,
    });
    expect(resolveVfsPath('/ipc/a/b/c.json')).toMatchObject({ ok: true, mount: '/ipc', isMountRoot: false });
    expect(resolveVfsPath('/mem/working/.hidden')).toMatchObject({ ok: true });
    expect(resolveVfsPath('/mem/working/a..b')).toMatchObject({ ok: true });
    expect(resolveVfsPath('/state/ünïcödé/日本')).toMatchObject({ ok: true, mount: '/state' });
  });

  it('flags /policy as read-only and only /policy', () => {
    expect(resolveVfsPath('/policy/rules.yaml')).toMatchObject({ ok: true, mount: '/policy', readOnly: true });
    expect(MOUNTS.filter((m) => m.readOnly).map((m) => m.path)).toEqual(['/policy']);
  });

  it.each(MOUNTS.map((m) => m.path))('resolves the mount root %s as a directory', (root) => {
    expect(resolveVfsPath(root)).toMatchObject({ ok: true, path: root, mount: root, isMountRoot: true });
  });

  it.each([
    ['/mem/working/../../policy/x', /'\.' and '\.\.' segments/],
    ['/mem/working/..', /'\.' and '\.\.' segments/],
    ['/mem/working/./a', /'\.' and '\.\.' segments/],
    ['/mem/working/a/.', /'\.' and '\.\.' segments/],
    ['/mem/workingX', /Path outside every mount: \/mem\/workingX/],
    ['/mem/workingX/a', /Path outside every mount/],
    ['/mem', /Path outside every mount/],
    ['/etc/passwd', /Path outside every mount/],
    ['/', /Path outside every mount: \/ /],
    ['//mem/working/a', /empty segment/],
    ['/mem/working//a', /empty segment/],
    ['/mem/working/a/', /must not end with '\/'/],
    ['/mem/working/', /must not end with '\/'/],
    ['/mem/working/a\u0000b', /control character U\+0000 at index 14/],
    ['/mem/working/a\nb', /control character U\+000A/],
    ['/mem/working/a\u001fb', /control character U\+001F/],
    ['/mem/working/a\u007fb', /control character U\+007F/],
    ['/mem/working\\a', /backslash/],
    ['mem/working/a', /must be absolute/],
    ['', /must be 1\.\.1024 characters long, got 0/],
    ['/mem/working/\ud800x', /unpaired UTF-16 surrogate/],
  ])('rejects %j', (path, message) => {
    const r = resolveVfsPath(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it.each([42, null, undefined, ['/mem/working/a'], { path: '/mem/working/a' }])('rejects the non-string %j', (x) => {
    expect(resolveVfsPath(x)).toMatchObject({ ok: false, message: /must be a string/ });
  });

  it('limits the path to 1024 characters', () => {
    const prefix = '/mem/working/';
    const segments = (n: number) => Array.from({ length: n }, () => 'a'.repeat(99)).join('/');
    const longest = `${prefix}${segments(10)}/${'b'.repeat(1024 - prefix.length - 1000)}`;
    expect(longest).toHaveLength(1024);
    expect(resolveVfsPath(longest)).toMatchObject({ ok: true });
    expect(resolveVfsPath(`${longest}c`)).toMatchObject({ ok: false, message: /got 1025/ });
  });

  it('limits a segment to 255 bytes of UTF-8, not 255 characters', () => {
    expect(resolveVfsPath(`/mem/working/${'a'.repeat(255)}`)).toMatchObject({ ok: true });
    expect(resolveVfsPath(`/mem/working/${'a'.repeat(256)}`)).toMatchObject({ ok: false, message: /255 bytes/ });
    // 128 two-byte characters: 128 characters, 256 bytes.
    expect(resolveVfsPath(`/mem/working/${'é'.repeat(128)}`)).toMatchObject({ ok: false, message: /255 bytes/ });
    expect(resolveVfsPath(`/mem/working/${'é'.repeat(127)}`)).toMatchObject({ ok: true });
  });

  it('keeps error messages short even for long paths', () => {
    const r = resolveVfsPath(`/nowhere/${'x'.repeat(900)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message.length).toBeLessThan(300);
  });
});
