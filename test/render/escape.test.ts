/**
 * The output boundary's functions (src/render/escape.ts): `cap` bounds a string at a byte budget
 * with a visible marker, `terminal` makes every control, bidirectional and invisible character
 * visible, `mdEscape` caps before escaping.
 */
import { cap, esc, escJoin, JSON_CAP_BYTES, mdEscape, terminal, TEXT_CAP_BYTES, truncationMarker } from '../../src/render/escape';

describe('cap', () => {
  test('a short string comes back unchanged', () => {
    expect(cap('arn:aws:iam::111122223333:user/alice')).toBe('arn:aws:iam::111122223333:user/alice');
    expect(cap(null)).toBe('');
    expect(cap(undefined)).toBe('');
    expect(cap(42)).toBe('42');
  });

  test('a 60 MB string is cut to 8 KiB with a marker giving its whole size', () => {
    const big = 'Mozilla/5.0 '.repeat(5_000_000); // 60,000,000 bytes
    const out = cap(big);
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(TEXT_CAP_BYTES);
    expect(Buffer.byteLength(out, 'utf8')).toBeGreaterThan(TEXT_CAP_BYTES - 64);
    expect(out.endsWith('… [truncated, 60,000,000 bytes in all]')).toBe(true);
    expect(out.startsWith('Mozilla/5.0 Mozilla/5.0 ')).toBe(true);
  });

  test('the JSON budget is 64 KiB', () => {
    const out = cap('x'.repeat(100_000), JSON_CAP_BYTES);
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(65_536);
    expect(out).toContain(truncationMarker(100_000));
    expect(cap('x'.repeat(65_536), JSON_CAP_BYTES)).toHaveLength(65_536);
  });

  test('multi-byte characters are never split', () => {
    const out = cap('é'.repeat(10_000)); // 20,000 bytes
    expect(out).not.toContain('\ufffd');
    expect(out).toMatch(/^é+… \[truncated, 20,000 bytes in all\]$/);
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(TEXT_CAP_BYTES);
    const emoji = cap('😀'.repeat(5_000)); // 4 bytes each
    expect(emoji).toMatch(/^(😀)+… \[truncated, 20,000 bytes in all\]$/u);
  });
});

describe('terminal', () => {
  test('control characters are made visible, not spaced out or removed', () => {
    expect(terminal('a\u001b[2Jb\u0007c\u0000d\u007fe\u009bf')).toBe('a[U+001B][2Jb[U+0007]c[U+0000]d[U+007F]e[U+009B]f');
    expect(terminal('line one\nforged line\r\tx')).toBe('line one[U+000A]forged line[U+000D][U+0009]x');
  });

  test('bidirectional, zero-width and tag characters are made visible', () => {
    expect(terminal('evil\u202Etxt.exe')).toBe('evil[U+202E]txt.exe');
    expect(terminal('ad\u200bmin\ufeff\u2066')).toBe('ad[U+200B]min[U+FEFF][U+2066]');
    expect(terminal('x\u{E0041}y')).toBe('x[U+E0041]y');
  });

  test('no byte below 0x20 and no C1 character is left, whatever the input', () => {
    let all = '';
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    const out = terminal(all);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(out).toContain('[U+0000]');
    expect(out).toContain('[U+009F]');
    expect(out).toContain(' !"#$%&');
  });

  test('caps at 8 KiB before making characters visible', () => {
    const out = terminal('\u001b'.repeat(20_000));
    expect(out.endsWith('… [truncated, 20,000 bytes in all]')).toBe(true);
    expect(out).not.toContain('\u001b');
  });
});

describe('mdEscape', () => {
  test('a 60 MB user agent comes out at 8 KiB with the marker', () => {
    const out = mdEscape('a'.repeat(60_000_000));
    // The marker's two brackets are backslash-escaped after the cut.
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(TEXT_CAP_BYTES + 2);
    expect(out).toContain('… \\[truncated, 60,000,000 bytes in all\\]');
  });
});

describe('esc', () => {
  test('caps a 60 MB value at 8 KiB of input with the marker, then escapes it', () => {
    const out = esc('<b>"x"</b>'.repeat(6_000_000));
    expect(out.startsWith('&lt;b&gt;&quot;x&quot;&lt;/b&gt;')).toBe(true);
    expect(out.endsWith('… [truncated, 60,000,000 bytes in all]')).toBe(true);
    expect(out.length).toBeLessThan(TEXT_CAP_BYTES * 6);
    expect(out).not.toMatch(/[<>"]/);
  });
});

describe('escJoin', () => {
  test('escapes and caps each value on its own, so a long list keeps every value', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `id-${i}"<`);
    const out = escJoin(ids);
    expect(out.split(' ')).toHaveLength(1000);
    expect(out.split(' ')[999]).toBe('id-999&quot;&lt;');
    expect(escJoin(['a'.repeat(10_000), 'b'])).toMatch(/^a+… \[truncated, 10,000 bytes in all\] b$/);
  });
});
