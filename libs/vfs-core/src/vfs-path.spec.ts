import { resolveVfsPath } from './vfs-path.js';

describe('resolveVfsPath', () => {
  it('accepts paths inside a mount and says which', () => {
    expect(resolveVfsPath('/mem/working/notes.txt')).toEqual({
      ok: true,
      path: '/mem/working/notes.txt',
      mount: '/mem/working',
      readOnly: false,
      isMountRoot: false,
    });
    expect(resolveVfsPath('/policy/rules.yaml')).toMatchObject({ ok: true, mount: '/policy', readOnly: true });
    expect(resolveVfsPath('/mem/working')).toMatchObject({ ok: true, isMountRoot: true });
    expect(resolveVfsPath('/ipc/a/b/c')).toMatchObject({ ok: true, mount: '/ipc' });
  });

  it.each([
    ['/mem/working/../../policy/p', /'\.' or '\.\.'/],
    ['/mem/working/./a', /'\.' or '\.\.'/],
    ['/mem/workingX/a', /outside every mount/],
    ['/mem/workingX', /outside every mount/],
    ['//mem/working/a', /empty segment/],
    ['/mem/working//a', /empty segment/],
    ['/mem/working/a/', /must not end/],
    ['/mem/working/a\u0000b', /control characters/],
    ['/mem/working/a\nb', /control characters/],
    ['/mem/working/a\u007fb', /control characters/],
    ['/mem/working\\a', /backslash/],
    ['mem/working/a', /absolute/],
    ['', /1\.\.1024/],
    ['/etc/passwd', /outside every mount/],
    ['/', /outside every mount/],
  ])('rejects %j', (path, message) => {
    const r = resolveVfsPath(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('rejects non-strings, overlong paths and segments', () => {
    expect(resolveVfsPath(42)).toMatchObject({ ok: false });
    expect(resolveVfsPath(`/mem/working/${'a'.repeat(1100)}`)).toMatchObject({ ok: false });
    expect(resolveVfsPath(`/mem/working/${'é'.repeat(200)}`)).toMatchObject({ ok: false, message: /255 bytes/ });
  });
});
