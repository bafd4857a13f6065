/**
 * Input checks that run on the client's data before anything is stored: JSON
 * bodies (UTF-8, numbers in range, no NUL), CSV delimiters and e-mail addresses,
 * and the regexes applied to request data, fed long adversarial strings.
 *
 * No test here measures time. The adversarial inputs are 100,000 characters: the
 * quadratic forms these replaced took from 10 s to over a minute on them, so a
 * regression fails on the timeout below instead of passing slowly.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonBody, checkJsonValues } from '../../src/http/body.js';
import { detectDelimiter, emailProblem } from '../../src/directory/import.js';
import { parseInstant, toStoredDateTime } from '../../src/scim/datetime.js';
import { evaluateFilter } from '../../src/scim/filter/evaluate.js';
import { parseFilter } from '../../src/scim/filter/parse.js';
import { loggedBody } from '../../src/directory/provisioning-log.js';
import { parseExpiry } from '../../src/directory/console-access.js';
import { isRollcallError, type ErrorCode } from '../../src/scim/errors.js';

const LONG = 100_000;
const GUARD = { timeout: 10_000 };

function refusal(f: () => unknown): { code: ErrorCode; message: string } {
  try {
    f();
  } catch (e) {
    if (isRollcallError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('JSON bodies', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them with U+FFFD', () => {
    const latin1 = Buffer.concat([Buffer.from('{"userName":"M'), Buffer.from([0xfc]), Buffer.from('ller"}')]);
    expect(refusal(() => parseJsonBody(latin1)).code).toBe('ROLLCALL_INVALID_UTF8');
    // A lone continuation byte, an overlong encoding of '/', a UTF-16 surrogate encoded as UTF-8.
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      expect(refusal(() => parseJsonBody(Buffer.from([0x22, ...bad, 0x22]))).code).toBe('ROLLCALL_INVALID_UTF8');
    }
    const utf16 = Buffer.from('\ufeff{"a":1}', 'utf16le');
    expect(refusal(() => parseJsonBody(utf16)).code).toBe('ROLLCALL_INVALID_UTF8');
  });

  it('accepts UTF-8 with or without a byte order mark, and keeps its characters', () => {
    expect(parseJsonBody(Buffer.from('{"userName":"Müller 😀"}'))).toEqual({ userName: 'Müller 😀' });
    expect(parseJsonBody(Buffer.from('\ufeff{"a":1}'))).toEqual({ a: 1 });
    expect(parseJsonBody(Buffer.from('  \n'))).toBeUndefined();
  });

  it('refuses numbers beyond the double range, naming where they are', () => {
    const r = refusal(() => parseJsonBody(Buffer.from('{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":-1e400}}')));
    expect(r.code).toBe('ROLLCALL_NUMBER_OUT_OF_RANGE');
    expect(r.message).toContain("'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter'");
    expect(refusal(() => parseJsonBody(Buffer.from('{"Operations":[{"op":"add","value":{"x":[1,2,1e999]}}]}'))).message).toContain("'Operations[0].value.x[2]'");
    expect(refusal(() => parseJsonBody(Buffer.from('1e400'))).message).toMatch(/^The request body is a number/);
    // Large but finite numbers, and underflow to 0, are numbers like any other.
    expect(parseJsonBody(Buffer.from('{"a":1.7976931348623157e308,"b":1e-400}'))).toEqual({ a: 1.7976931348623157e308, b: 0 });
  });

  it('refuses U+0000 in a value or a key, naming where', () => {
    const value = refusal(() => parseJsonBody(Buffer.from('{"name":{"givenName":"Ada\\u0000"}}')));
    expect(value.code).toBe('ROLLCALL_NUL_CHARACTER');
    expect(value.message).toContain("'name.givenName'");
    const key = refusal(() => parseJsonBody(Buffer.from('{"emails":[{"val\\u0000ue":"a@b.example"}]}')));
    expect(key.code).toBe('ROLLCALL_NUL_CHARACTER');
    expect(key.message).toContain('emails[0]."val\\u0000ue"');
    expect(refusal(() => parseJsonBody(Buffer.from('["\\u0000"]'))).message).toContain("'[0]'");
    // Unescaped, a control character is not JSON at all.
    expect(refusal(() => parseJsonBody(Buffer.from('["a\u0000"]'))).code).toBe('ROLLCALL_INVALID_JSON');
  });

  it('refuses a body nested far deeper than the call stack without overflowing; within 32 levels it walks every value', () => {
    const nested = (depth: number, leaf: string) => JSON.parse('['.repeat(depth) + leaf + ']'.repeat(depth));
    expect(refusal(() => checkJsonValues(nested(200_000, '1'))).code).toBe('ROLLCALL_BODY_TOO_DEEP');
    expect(() => checkJsonValues(nested(31, '1'))).not.toThrow();
    expect(refusal(() => checkJsonValues(nested(31, '1e400'))).code).toBe('ROLLCALL_NUMBER_OUT_OF_RANGE');
  });
});

describe('CSV delimiter', () => {
  it('is the one of comma, semicolon and tab the header line uses outside quotes', () => {
    expect(detectDelimiter('first name,e-mail\nA;B,a@b.example\n')).toBe(',');
    expect(detectDelimiter('\ufeffVorname;Nachname;E-Mail\r\nA,B;C;a@b.example')).toBe(';');
    expect(detectDelimiter('first name\te-mail\n')).toBe('\t');
    expect(detectDelimiter('"Name, full";"E-Mail"\n')).toBe(';');
    expect(detectDelimiter('"a ""quoted"", name";email\n')).toBe(';');
    // A quoted header spanning a line break is still one header line.
    expect(detectDelimiter('"first\nname";e-mail\nx,y')).toBe(';');
    // One column: nothing to separate.
    expect(detectDelimiter('e-mail\nsam@switch.example,extra\n')).toBe(',');
    expect(detectDelimiter('\n\ne-mail;name\n')).toBe(';');
  });

  it('refuses a header line that uses more than one, saying what it found', () => {
    const r = refusal(() => detectDelimiter('first name;last name,e-mail\n'));
    expect(r.code).toBe('ROLLCALL_CSV_DELIMITER_UNCLEAR');
    expect(r.message).toMatch(/1 commas and 1 semicolons/);
    expect(refusal(() => detectDelimiter('a\tb,c\n')).code).toBe('ROLLCALL_CSV_DELIMITER_UNCLEAR');
  });

  it('reads a long adversarial header in one pass', GUARD, () => {
    expect(detectDelimiter('"' + '""'.repeat(LONG) + '";e-mail')).toBe(';');
    expect(detectDelimiter(','.repeat(LONG))).toBe(',');
  });
});

describe('CSV e-mail addresses', () => {
  it('accepts addresses people have', () => {
    for (const a of ['ada@example.com', 'Ada.Lovelace+crm@mail.example.co.uk', 'o\'brien@example.ie', '"a@b"@example.com', 'jörg@müller.de', 'x@xn--mller-kva.de', 'a_b-c@sub-1.example.org']) {
      expect(emailProblem(a), a).toBeUndefined();
    }
  });

  it('says what is wrong with one that is not', () => {
    const cases: [string, RegExp][] = [
      ['ada.example.com', /no @/],
      ['@example.com', /before the @/],
      ['ada@', /no domain/],
      ['ada@localhost', /no dot/],
      ['ada lovelace@example.com', /space/],
      ['ada@exa_mple.com', /not a domain name/],
      ['ada@-example.com', /not a domain name/],
      ['ada@example..com', /not a domain name/],
      ['ada@example.123', /not a domain name/],
      ['.ada@example.com', /dot/],
      ['a..da@example.com', /dot/],
      ['a,da@example.com', /','/],
      ['a'.repeat(65) + '@example.com', /64/],
      ['a@' + 'b'.repeat(64) + '.com', /not a domain name/],
    ];
    for (const [a, why] of cases) expect(emailProblem(a), a).toMatch(why);
  });

  it('refuses long adversarial addresses in linear time', GUARD, () => {
    expect(emailProblem('a'.repeat(LONG) + '@example.com')).toMatch(/254/);
    expect(emailProblem('a@' + 'a.'.repeat(120) + 'x')).toBeUndefined();
    expect(emailProblem('a@' + 'a-'.repeat(120) + '.!')).toMatch(/not a domain name/);
  });
});

describe('regexes over request data, fed 100,000 characters', () => {
  it('dateTime: a long string is refused, a long run of zeros is not retried from every zero', GUARD, () => {
    expect(parseInstant('2024-01-01T00:00:00.' + '0'.repeat(LONG) + '1Z')).toBeUndefined();
    expect(parseInstant('2024-01-01T00:00:00.' + '1'.repeat(LONG) + 'x')).toBeUndefined();
    expect(parseInstant(' '.repeat(LONG) + '2024-01-01')).toEqual({ seconds: 1704067200, fraction: '' });
    // What the bound keeps: Entra ID's 7 digits, trailing zeros dropped, nanoseconds.
    expect(parseInstant('2015-10-10T14:38:21.8617900-07:00')).toEqual({ seconds: 1444513101, fraction: '86179' });
    expect(parseInstant('2015-10-10T14:38:21.000000000Z')).toEqual({ seconds: 1444487901, fraction: '' });
    expect(toStoredDateTime(parseInstant('2015-10-10T14:38:21.8617979Z')!)).toEqual({ iso: '2015-10-10T14:38:21.861Z', subMillis: true });
  });

  it('the evaluator reads a long run of digits that is not a number as a string', GUARD, () => {
    const filter = parseFilter('loginCount gt 5');
    const opts = { typeOf: () => 'integer' };
    expect(evaluateFilter(filter, { loginCount: '1'.repeat(LONG) + 'x' }, opts)).toBe(false);
    expect(evaluateFilter(filter, { loginCount: ' 12 ' }, opts)).toBe(true);
    expect(evaluateFilter(filter, { loginCount: '1.5e1' }, opts)).toBe(true);
    expect(evaluateFilter(filter, { loginCount: '6.' }, opts)).toBe(true);
    expect(evaluateFilter(filter, { loginCount: '4' }, opts)).toBe(false);
  });

  it('the provisioning log redacts by a PATCH path full of [ without retrying from each', GUARD, () => {
    const ops = (path: string) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path, value: 's3cret' }] });
    expect(JSON.stringify(loggedBody(ops('['.repeat(LONG) + 'password')))).not.toContain('s3cret');
    expect(JSON.stringify(loggedBody(ops('emails[type eq "work"].value')))).toContain('s3cret');
    expect(JSON.stringify(loggedBody(ops('urn:ietf:params:scim:schemas:core:2.0:User:password')))).not.toContain('s3cret');
    expect(JSON.stringify(loggedBody(ops('x[' + ']'.repeat(10) + '.password')))).not.toContain('s3cret');
  });

  it('a setup link expiry with a long run of spaces is refused', GUARD, () => {
    expect(refusal(() => parseExpiry('5' + ' '.repeat(LONG) + 'x')).code).toBe('ROLLCALL_ADMIN_BAD_INPUT');
    expect(parseExpiry(' 7 d ')).toBe(7 * 86_400);
    expect(parseExpiry('3600')).toBe(3600);
    expect(parseExpiry('90M')).toBe(5400);
  });
});
