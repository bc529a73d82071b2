// ImagewireError.code is a union of the real codes, not `string`: known codes narrow, a misspelt one
// does not type-check where a code is expected (checked by `tsc` in `npm test`, through the lines
// marked as expected errors), and a code this version does not know still arrives as the server's string.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ApiError, ValidationError, clientErrorCodes, type ClientErrorCode, type ConnectionError, type ImagewireError, type TimeoutError, type ImagewireErrorCode, type UnknownErrorCode } from '../../src/index.js';
import { errorCodes, type ErrorCode } from '../../src/protocol/index.js';

/** A function that takes a code, as an app's error table would. */
function describeCode(code: ImagewireErrorCode): string {
  return code;
}

/** Never called: its body only has to compile (or fail to, where marked). */
function typeChecks(error: ImagewireError, api: ApiError): void {
  // A switch on the code lists the known ones; a case narrows to its literal (or a code this
  // version does not know, which is a string too).
  switch (error.code) {
    case 'invalidWidth':
    case 'taskTimeout':
      expectTypeOf(error.code).toEqualTypeOf<'invalidWidth' | 'taskTimeout' | UnknownErrorCode>();
      break;
    default:
  }
  // @ts-expect-error a misspelt code is no code at all
  describeCode('invalidWdth');
  // @ts-expect-error a plain string is not a code without saying so
  describeCode('whatever' as string);
  describeCode('invalidWidth');
  describeCode('clientQueueFull');
  // A code this version does not know is compared as the string it is.
  if (api.code === 'someFutureCode') return;
  // Without the codes this version does not know, exactly the client's and the protocol's remain.
  expectTypeOf<Exclude<ImagewireErrorCode, UnknownErrorCode>>().toEqualTypeOf<ClientErrorCode | ErrorCode>();
  expectTypeOf<UnknownErrorCode>().toMatchTypeOf<string>();
  expectTypeOf<ImagewireError['code']>().toEqualTypeOf<ImagewireErrorCode>();
  expectTypeOf<ImagewireError['code']>().not.toEqualTypeOf<string>();
  expectTypeOf<ConnectionError['code']>().toEqualTypeOf<'connectionClosed' | 'connectionFailed' | 'reconnectFailed' | 'sessionTakenOver' | 'apiKeyProviderFailed' | 'clientClosed' | 'unreachable'>();
  expectTypeOf<TimeoutError['code']>().toEqualTypeOf<'connectTimeout' | 'authTimeout' | 'pongTimeout' | 'taskTimeout'>();
}

describe('error codes', () => {
  it('type-checks as a union (see typeChecks) and keeps the server string at run time', () => {
    expect(typeof typeChecks).toBe('function');
    const known = new ApiError({ code: 'invalidWidth', message: 'bad width', parameter: 'width' });
    expect(known.code).toBe('invalidWidth');
    const future = new ApiError({ code: 'someFutureCode', message: 'new in a later server' });
    expect(String(future.code)).toBe('someFutureCode');
    expect(new ValidationError([{ code: 'missingModel', message: 'model is required' }]).code).toBe('missingModel');
  });

  it('has no client code that is also a protocol code with another meaning, except taskTimeout', () => {
    const shared = Object.keys(clientErrorCodes).filter((code) => Object.prototype.hasOwnProperty.call(errorCodes, code));
    expect(shared).toEqual(['taskTimeout']);
  });
});
