// Every rule of the imageInference parameter tables: accepted edges, refused values, and the error
// item each refusal produces (code, parameter, taskType, taskUUID, and a message that names the rule
// and the value received). Expected limits come from the seed documents.
import { describe, it, expect } from 'vitest';
import {
  acceptedImageForms,
  baseRequest,
  baseWithout,
  codePoints,
  errorsOf,
  expectOnlyError,
  expectSomeError,
  expectValid,
  IMAGE_UUID,
  JPEG_DATA_URI,
  PNG_DATA_URI,
  refusedImageForms,
  richRequest,
  TASK_UUID,
  UUID_V1,
  type Task,
} from './fixtures.js';
import { decodeClientFrame, previewSteps } from '../../src/protocol/index.js';

const DIMENSION_RULE = 'must be a multiple of 64 from 128 to 2048';

describe('base requests', () => {
  it('accepts the minimal request of the protocol example', () => {
    expectValid(baseRequest());
  });

  it('accepts a request that uses almost every parameter', () => {
    expectValid(richRequest());
  });

  it('treats null as an absent optional parameter', () => {
    expectValid(baseRequest({ negativePrompt: null, steps: null, seedImage: null, controlNet: null, previews: null }));
  });
});

describe.each(['width', 'height'] as const)('%s', (name) => {
  const invalid = name === 'width' ? 'invalidWidth' : 'invalidHeight';
  const missing = name === 'width' ? 'missingWidth' : 'missingHeight';

  it.each([128, 192, 512, 576, 1024, 2048])('accepts %d', (value) => {
    expectValid(baseRequest({ [name]: value }));
  });

  it.each([
    [127, '127'],
    [2049, '2049'],
    [2112, '2112'],
    [500, '500'],
    [64, '64'],
    [0, '0'],
    [-128, '-128'],
    [512.5, '512.5'],
    [Number.NaN, 'NaN'],
    ['512', '"512" (string of 3 characters)'],
    [true, 'true'],
    [[512], 'an array of 1'],
  ] as const)('refuses %s', (value, shown) => {
    const item = expectOnlyError(baseRequest({ [name]: value }), {
      code: invalid,
      parameter: name,
      type: 'integer',
      message: [`${name} ${DIMENSION_RULE}`, `got ${shown}`],
    });
    expect(item.message).toBe(`${name} ${DIMENSION_RULE}; got ${shown}`);
  });

  it('gives the exact message of the protocol documentation', () => {
    const item = expectOnlyError(baseRequest({ [name]: 500 }), { code: invalid, parameter: name });
    expect(item.message).toBe(`${name} must be a multiple of 64 from 128 to 2048; got 500`);
  });

  it(`reports a missing ${name} as ${missing}`, () => {
    expectOnlyError(baseWithout(name), { code: missing, parameter: name, message: [`${name} is required`] });
  });

  it(`reports a null ${name} as ${missing}`, () => {
    expectOnlyError(baseRequest({ [name]: null }), { code: missing, parameter: name });
  });
});

describe('positivePrompt', () => {
  const rule = 'positivePrompt must be from 2 to 3000 characters long';

  it('is required', () => {
    expectOnlyError(baseWithout('positivePrompt'), { code: 'missingPositivePrompt', parameter: 'positivePrompt', message: ['positivePrompt is required'] });
  });

  it.each([
    ['2 characters', 'ab'],
    ['3000 characters', 'x'.repeat(3000)],
    ['two emoji', '😀😀'],
    ['3000 emoji (6000 UTF-16 units)', codePoints('😀', 3000)],
    ['unicode text', 'un chat sur la plage, 夕焼け, ☀️'],
    ['__BLANK__ alone', '__BLANK__'],
  ])('accepts %s', (_label, prompt) => {
    expectValid(baseRequest({ positivePrompt: prompt }));
  });

  it.each([
    ['1 character', 'a', 'got 1 characters'],
    ['3001 characters', 'x'.repeat(3001), 'got 3001 characters'],
    ['one emoji (two UTF-16 units, one character)', '😀', 'got 1 characters'],
    ['3001 emoji', codePoints('😀', 3001), 'got at least 3001 characters'],
    ['an empty string', '', 'got 0 characters'],
    ['a very long prompt', 'x'.repeat(10_000), 'got at least 5000 characters'],
  ])('refuses %s', (_label, prompt, got) => {
    expectOnlyError(baseRequest({ positivePrompt: prompt }), {
      code: 'invalidPositivePrompt',
      parameter: 'positivePrompt',
      type: 'string',
      message: [rule, got],
    });
  });

  it('counts code points: an emoji counts once', () => {
    // Two emoji are four UTF-16 units but two characters: accepted at the minimum of 2.
    expectValid(baseRequest({ positivePrompt: '🐱🐶' }));
    const item = expectOnlyError(baseRequest({ positivePrompt: codePoints('🐱', 2999) + 'ab' }), { code: 'invalidPositivePrompt', parameter: 'positivePrompt' });
    expect(item.message).toBe(`${rule}; got 3001 characters`);
  });

  it.each([
    [42, 'got 42'],
    [true, 'got true'],
    [['a cat'], 'got an array of 1'],
    [{ text: 'a cat' }, 'got an object'],
  ])('refuses the non-string %j', (value, got) => {
    expectOnlyError(baseRequest({ positivePrompt: value }), {
      code: 'invalidPositivePrompt',
      parameter: 'positivePrompt',
      message: ['positivePrompt must be a string', got],
    });
  });

  it.each(['   ', '\t\n  ', '\u00a0\u3000'])('refuses white space only (%j)', (prompt) => {
    expectOnlyError(baseRequest({ positivePrompt: prompt }), {
      code: 'invalidPositivePrompt',
      parameter: 'positivePrompt',
      message: ['positivePrompt must contain text', 'got only white space'],
    });
  });

  it.each(['__BLANK__ a cat', 'a cat __BLANK__', 'a __BLANK__ cat', '__BLANK____BLANK__'])('refuses __BLANK__ mixed with text (%j)', (prompt) => {
    expectOnlyError(baseRequest({ positivePrompt: prompt }), {
      code: 'invalidPositivePrompt',
      parameter: 'positivePrompt',
      message: ['positivePrompt may use __BLANK__ only as the whole prompt', `got ${JSON.stringify(prompt)}`],
    });
  });
});

describe('negativePrompt', () => {
  const rule = 'negativePrompt must be from 2 to 2000 characters long';

  it.each([
    ['2 characters', 'ab'],
    ['2000 characters', 'n'.repeat(2000)],
    ['2000 emoji', codePoints('🚫', 2000)],
  ])('accepts %s', (_label, prompt) => {
    expectValid(baseRequest({ negativePrompt: prompt }));
  });

  it.each([
    ['1 character', 'a', 'got 1 characters'],
    ['2001 characters', 'n'.repeat(2001), 'got 2001 characters'],
    ['2001 emoji', codePoints('🚫', 2001), 'got at least 2001 characters'],
  ])('refuses %s', (_label, prompt, got) => {
    expectOnlyError(baseRequest({ negativePrompt: prompt }), { code: 'invalidNegativePrompt', parameter: 'negativePrompt', type: 'string', message: [rule, got] });
  });

  it('refuses a non-string and white space only', () => {
    expectOnlyError(baseRequest({ negativePrompt: 5 }), { code: 'invalidNegativePrompt', parameter: 'negativePrompt', message: ['must be a string', 'got 5'] });
    expectOnlyError(baseRequest({ negativePrompt: '    ' }), { code: 'invalidNegativePrompt', parameter: 'negativePrompt', message: ['must contain text', 'white space'] });
  });
});

describe('model', () => {
  it('is required', () => {
    expectOnlyError(baseWithout('model'), { code: 'missingModel', parameter: 'model', message: ['model is required'] });
  });

  it.each(['runware:101@1', 'civitai:102438@133677', 'runware:55@10', 'my-org:model_v2.1@rc-3'])('accepts the AIR id %s', (model) => {
    expectValid(baseRequest({ model }));
  });

  it.each([
    ['sdxl', '"sdxl" (string of 4 characters)'],
    ['runware:101', '"runware:101" (string of 11 characters)'],
    ['runware@1', '"runware@1" (string of 9 characters)'],
    ['runware:101@', '"runware:101@" (string of 12 characters)'],
    [':101@1', '":101@1" (string of 6 characters)'],
    ['runware:10 1@1', '"runware:10 1@1" (string of 14 characters)'],
    ['', '"" (string of 0 characters)'],
    [101, '101'],
  ] as const)('refuses %j', (model, shown) => {
    expectOnlyError(baseRequest({ model }), {
      code: 'invalidModel',
      parameter: 'model',
      message: ['model must be an AIR identifier like runware:101@1 (source:id@version)', `got ${shown}`],
    });
  });

  it('refuses an AIR id longer than 200 characters', () => {
    expectOnlyError(baseRequest({ model: `runware:${'1'.repeat(200)}@1` }), { code: 'invalidModel', parameter: 'model' });
  });
});

describe('steps', () => {
  it.each([1, 20, 100])('accepts %d', (steps) => expectValid(baseRequest({ steps })));
  it.each([
    [0, '0'],
    [101, '101'],
    [1.5, '1.5'],
    [-1, '-1'],
    ['20', '"20" (string of 2 characters)'],
  ] as const)('refuses %j', (steps, shown) => {
    const item = expectOnlyError(baseRequest({ steps }), { code: 'invalidSteps', parameter: 'steps', type: 'integer' });
    expect(item.message).toBe(`steps must be an integer from 1 to 100; got ${shown}`);
  });
});

describe('seed', () => {
  it.each([
    ['1', 1],
    ['2^53', 2 ** 53],
    ['2^53 - 1', Number.MAX_SAFE_INTEGER],
    ['2^53 + 1 as a bigint', 2n ** 53n + 1n],
    ['9223372036854775807 as a bigint', 9_223_372_036_854_775_807n],
    ['2^62 as a number (an integer a double holds exactly)', 2 ** 62],
  ])('accepts %s', (_label, seed) => expectValid(baseRequest({ seed })));

  it('accepts 9223372036854775807 decoded from a frame, exactly', () => {
    const decoded = decodeClientFrame(`[${JSON.stringify(baseRequest()).replace('{', '{"seed":9223372036854775807,')}]`);
    if (!decoded.ok) throw new Error(decoded.error.message);
    const task = decoded.entries[0] as Task;
    expect(task.seed).toBe(9_223_372_036_854_775_807n);
    expectValid(task);
  });

  it.each([
    ['2^63 - 1 with numberResults 2', 9_223_372_036_854_775_807n, 2, 'got seed 9223372036854775807 with numberResults 2'],
    ['2^63 - 19 with numberResults 20', 9_223_372_036_854_775_789n, 20, 'got seed 9223372036854775789 with numberResults 20'],
  ] as const)('refuses %s: the last result would carry a seed above the top', (_label, seed, numberResults, got) => {
    expectOnlyError(baseRequest({ seed, numberResults }), {
      code: 'invalidSeed',
      parameter: 'seed',
      type: 'integer',
      message: ['seed + numberResults - 1', 'at most 9223372036854775807', got],
    });
  });

  it('accepts the highest seed each numberResults allows', () => {
    for (let numberResults = 1; numberResults <= 20; numberResults++) {
      expectValid(baseRequest({ seed: 9_223_372_036_854_775_807n - BigInt(numberResults - 1), numberResults }));
    }
  });

  it.each([
    ['0', 0, 'got 0'],
    ['-1', -1, 'got -1'],
    ['2^63 as a number (one above the top)', 2 ** 63, 'got 9223372036854776000'],
    ['2^63 as a bigint', 2n ** 63n, 'got 9223372036854775808'],
    ['0 as a bigint', 0n, 'got 0'],
    ['the next double above 2^63', 2 ** 63 + 2 ** 11, 'got 9223372036854778000'],
    ['2^64', 2 ** 64, 'got 18446744073709552000'],
    ['1.5', 1.5, 'got 1.5'],
    ['a string', '42', 'got "42"'],
    ['Infinity', Number.POSITIVE_INFINITY, 'got Infinity'],
  ])('refuses %s', (_label, seed, got) => {
    expectOnlyError(baseRequest({ seed }), {
      code: 'invalidSeed',
      parameter: 'seed',
      type: 'integer',
      message: ['seed must be an integer from 1 to 9223372036854775807', got],
    });
  });
});

describe('CFGScale', () => {
  it.each([0, 7, 7.5, 0.001, 29.99, 30])('accepts %d', (CFGScale) => expectValid(baseRequest({ CFGScale })));
  it.each([
    [-0.1, '-0.1'],
    [30.1, '30.1'],
    [31, '31'],
    ['7', '"7" (string of 1 characters)'],
  ] as const)('refuses %j', (CFGScale, shown) => {
    const item = expectOnlyError(baseRequest({ CFGScale }), { code: 'invalidCFGScale', parameter: 'CFGScale', type: 'float' });
    expect(item.message).toBe(`CFGScale must be a number from 0 to 30; got ${shown}`);
  });
});

describe('clipSkip', () => {
  it.each([0, 1, 2])('accepts %d', (clipSkip) => expectValid(baseRequest({ clipSkip })));
  it.each([-1, 3, 1.5])('refuses %d', (clipSkip) => {
    const item = expectOnlyError(baseRequest({ clipSkip }), { code: 'invalidClipSkip', parameter: 'clipSkip' });
    expect(item.message).toBe(`clipSkip must be an integer from 0 to 2; got ${clipSkip}`);
  });
});

describe('numberResults', () => {
  it.each([1, 20])('accepts %d', (numberResults) => expectValid(baseRequest({ numberResults })));
  it.each([0, 21, 2.5])('refuses %d', (numberResults) => {
    const item = expectOnlyError(baseRequest({ numberResults }), { code: 'invalidNumberResults', parameter: 'numberResults' });
    expect(item.message).toBe(`numberResults must be an integer from 1 to 20; got ${numberResults}`);
  });
});

describe('outputType', () => {
  it.each(['base64Data', 'dataURI', 'URL'])('accepts %s', (outputType) => expectValid(baseRequest({ outputType })));
  it.each([
    ['url', '"url"'],
    ['base64', '"base64"'],
    ['PNG', '"PNG"'],
    [1, '1'],
  ] as const)('refuses %j', (outputType, shown) => {
    expectOnlyError(baseRequest({ outputType }), {
      code: 'invalidOutputType',
      parameter: 'outputType',
      message: ['outputType must be one of base64Data, dataURI, URL', `got ${shown}`],
    });
  });
});

describe('outputFormat', () => {
  it.each(['JPG', 'PNG', 'WEBP', 'png', 'jpg', 'Webp'])('accepts %s (any letter case)', (outputFormat) => expectValid(baseRequest({ outputFormat })));
  it.each([
    ['GIF', '"GIF"'],
    ['JPEG', '"JPEG"'],
    ['image/png', '"image/png"'],
    [false, 'false'],
  ] as const)('refuses %j', (outputFormat, shown) => {
    expectOnlyError(baseRequest({ outputFormat }), {
      code: 'invalidOutputFormat',
      parameter: 'outputFormat',
      message: ['outputFormat must be one of JPG, PNG, WEBP', `got ${shown}`],
    });
  });
});

describe('outputQuality', () => {
  it.each([20, 95, 99])('accepts %d', (outputQuality) => expectValid(baseRequest({ outputQuality })));
  it.each([19, 100, 50.5])('refuses %d', (outputQuality) => {
    const item = expectOnlyError(baseRequest({ outputQuality }), { code: 'invalidOutputQuality', parameter: 'outputQuality' });
    expect(item.message).toBe(`outputQuality must be an integer from 20 to 99; got ${outputQuality}`);
  });
});

describe.each([
  ['uploadEndpoint', 'invalidUploadEndpoint'],
  ['webhookURL', 'invalidWebhookURL'],
] as const)('%s', (name, code) => {
  it.each(['https://bucket.example.com/a/b.png?sig=1', 'http://localhost:8080/upload', 'HTTPS://EXAMPLE.COM/'])('accepts %s', (url) => {
    expectValid(baseRequest({ [name]: url }));
  });
  it.each([
    ['an ftp URL', 'ftp://example.com/upload', '"ftp://example.com/upload"'],
    ['garbage', 'not a url', '"not a url"'],
    ['a scheme without host', 'https://', '"https://"'],
    ['a relative path', '/upload', '"/upload"'],
    ['a javascript: URL', 'javascript:alert(1)', '"javascript:alert(1)"'],
    ['a number', 42, '42'],
  ] as const)('refuses %s', (_label, url, shown) => {
    expectOnlyError(baseRequest({ [name]: url }), {
      code,
      parameter: name,
      message: [`${name} must be an http(s) URL of at most 2048 characters`, `got ${shown}`],
    });
  });
  it('refuses a URL over 2048 characters', () => {
    expectOnlyError(baseRequest({ [name]: `https://example.com/${'a'.repeat(2048)}` }), { code, parameter: name });
  });
});

describe.each([
  ['checkNSFW', 'invalidCheckNSFW'],
  ['includeCost', 'invalidIncludeCost'],
] as const)('%s', (name, code) => {
  it.each([true, false])('accepts %s', (value) => expectValid(baseRequest({ [name]: value })));
  it.each([
    ['true', '"true" (string of 4 characters)'],
    [1, '1'],
    [0, '0'],
    [{}, 'an object with 0 keys'],
  ] as const)('refuses %j', (value, shown) => {
    const item = expectOnlyError(baseRequest({ [name]: value }), { code, parameter: name, type: 'boolean' });
    expect(item.message).toBe(`${name} must be true or false; got ${shown}`);
  });
});

describe('deliveryMethod', () => {
  it.each(['sync', 'async'])('accepts %s', (deliveryMethod) => expectValid(baseRequest({ deliveryMethod })));
  it.each(['stream', 'SYNC', ''])('refuses %j', (deliveryMethod) => {
    expectOnlyError(baseRequest({ deliveryMethod }), {
      code: 'invalidDeliveryMethod',
      parameter: 'deliveryMethod',
      message: ['deliveryMethod must be one of sync, async', `got ${JSON.stringify(deliveryMethod)}`],
    });
  });
});

describe('ttl', () => {
  it('accepts 60 and more', () => {
    expectValid(baseRequest({ ttl: 60 }));
    expectValid(baseRequest({ ttl: 86_400, outputType: 'URL' }));
  });
  it.each([59, 0, -60, 60.5])('refuses %d', (ttl) => {
    const item = expectOnlyError(baseRequest({ ttl }), { code: 'invalidTtl', parameter: 'ttl', type: 'integer' });
    expect(item.message).toBe(`ttl must be an integer of at least 60; got ${ttl}`);
  });
  it.each(['base64Data', 'dataURI'])('refuses ttl with outputType %s', (outputType) => {
    expectOnlyError(baseRequest({ ttl: 60, outputType }), {
      code: 'invalidTtl',
      parameter: 'ttl',
      message: ['ttl applies only to outputType URL', `got outputType ${JSON.stringify(outputType)}`],
    });
  });
});

describe('scheduler', () => {
  it.each(['Euler', 'DPM++ 2M Karras', 's'.repeat(100)])('accepts %s', (scheduler) => expectValid(baseRequest({ scheduler })));
  it.each([
    ['', 'got 0 characters'],
    ['s'.repeat(101), 'got 101 characters'],
  ])('refuses a scheduler of %#', (scheduler, got) => {
    expectOnlyError(baseRequest({ scheduler }), { code: 'invalidScheduler', parameter: 'scheduler', message: ['scheduler must be from 1 to 100 characters long', got] });
  });
  it('refuses a non-string', () => {
    expectOnlyError(baseRequest({ scheduler: 3 }), { code: 'invalidScheduler', parameter: 'scheduler', message: ['must be a string', 'got 3'] });
  });
});

describe('vae', () => {
  it('accepts an AIR id', () => expectValid(baseRequest({ vae: 'runware:100@1' })));
  it.each(['sdxl_vae.safetensors', 'runware:100'])('refuses %s', (vae) => {
    expectOnlyError(baseRequest({ vae }), { code: 'invalidVae', parameter: 'vae', message: ['vae must be an AIR identifier', `got ${JSON.stringify(vae)}`] });
  });
});

describe('promptWeighting and usePromptWeighting', () => {
  it.each(['compel', 'sdEmbeds'])('accepts promptWeighting %s', (promptWeighting) => expectValid(baseRequest({ promptWeighting })));
  it.each(['Compel', 'none', 'sdembeds', 1])('refuses promptWeighting %j', (promptWeighting) => {
    expectOnlyError(baseRequest({ promptWeighting }), {
      code: 'invalidPromptWeighting',
      parameter: 'promptWeighting',
      message: ['promptWeighting must be one of compel, sdEmbeds', `got ${JSON.stringify(promptWeighting)}`],
    });
  });
  it.each([true, false])('accepts the older usePromptWeighting %s', (usePromptWeighting) => expectValid(baseRequest({ usePromptWeighting })));
  it.each([
    ['yes', '"yes" (string of 3 characters)'],
    [1, '1'],
  ] as const)('refuses usePromptWeighting %j', (usePromptWeighting, shown) => {
    const item = expectOnlyError(baseRequest({ usePromptWeighting }), { code: 'invalidPromptWeighting', parameter: 'usePromptWeighting', type: 'boolean' });
    expect(item.message).toBe(`usePromptWeighting must be true or false; got ${shown}`);
  });
  it.each([true, false])('refuses usePromptWeighting %s together with promptWeighting', (usePromptWeighting) => {
    expectOnlyError(baseRequest({ usePromptWeighting, promptWeighting: 'compel' }), {
      code: 'conflictingParameters',
      parameter: 'usePromptWeighting',
      message: ['usePromptWeighting is the older name of promptWeighting', 'give only one'],
    });
  });
});

describe('input images (seedImage, maskImage, guideImage)', () => {
  const placements: ReadonlyArray<readonly [string, (image: unknown) => Task, string, string]> = [
    ['seedImage', (image) => baseRequest({ seedImage: image }), 'seedImage', 'invalidSeedImage'],
    ['maskImage', (image) => baseRequest({ seedImage: IMAGE_UUID, maskImage: image }), 'maskImage', 'invalidMaskImage'],
    [
      'controlNet guideImage',
      (image) => baseRequest({ controlNet: [{ model: 'runware:20@1', guideImage: image }] }),
      'controlNet[0].guideImage',
      'invalidControlNet',
    ],
    [
      'ipAdapters guideImage',
      (image) => baseRequest({ ipAdapters: [{ model: 'runware:55@1', guideImage: image }] }),
      'ipAdapters[0].guideImage',
      'invalidIpAdapters',
    ],
  ];

  describe.each(placements)('%s', (_label, build, parameter, code) => {
    it.each(acceptedImageForms)('accepts %s', (_form, image) => {
      expectValid(build(image));
    });

    it.each(refusedImageForms)('refuses %s', (_form, image, reason) => {
      expectOnlyError(build(image), {
        code,
        parameter,
        type: 'string',
        message: [`${parameter}: ${reason}`, `got ${JSON.stringify(image).slice(0, 30)}`],
      });
    });

    it('refuses a non-string', () => {
      expectOnlyError(build(12345), { code, parameter, message: [`${parameter} must be a string (image UUID, data URI, base64 or URL)`, 'got 12345'] });
    });
  });
});

describe('maskImage, maskMargin and strength', () => {
  it('needs a seedImage for a maskImage', () => {
    expectOnlyError(baseRequest({ maskImage: PNG_DATA_URI }), {
      code: 'missingSeedImage',
      parameter: 'seedImage',
      message: ['seedImage is required for inpainting'],
    });
  });

  it.each([32, 64, 128])('accepts maskMargin %d with a maskImage', (maskMargin) => {
    expectValid(baseRequest({ seedImage: IMAGE_UUID, maskImage: PNG_DATA_URI, maskMargin }));
  });

  it.each([31, 129, 64.5])('refuses maskMargin %d', (maskMargin) => {
    const item = expectOnlyError(baseRequest({ seedImage: IMAGE_UUID, maskImage: PNG_DATA_URI, maskMargin }), { code: 'invalidMaskMargin', parameter: 'maskMargin' });
    expect(item.message).toBe(`maskMargin must be an integer from 32 to 128; got ${maskMargin}`);
  });

  it('needs a maskImage for maskMargin', () => {
    expectOnlyError(baseRequest({ seedImage: IMAGE_UUID, maskMargin: 64 }), {
      code: 'missingMaskImage',
      parameter: 'maskImage',
      message: ['maskMargin needs a maskImage'],
    });
  });

  it.each([0, 0.5, 0.8, 1])('accepts strength %d', (strength) => expectValid(baseRequest({ seedImage: IMAGE_UUID, strength })));
  it.each([-0.01, 1.01, 2])('refuses strength %d', (strength) => {
    const item = expectOnlyError(baseRequest({ seedImage: IMAGE_UUID, strength }), { code: 'invalidStrength', parameter: 'strength', type: 'float' });
    expect(item.message).toBe(`strength must be a number from 0 to 1; got ${strength}`);
  });
});

describe('outpaint (older name: outpainting)', () => {
  const withSeed = (outpaint: unknown, name = 'outpaint'): Task => baseRequest({ seedImage: IMAGE_UUID, [name]: outpaint });

  it.each([
    { top: 64 },
    { left: 128, right: 128 },
    { top: 0, right: 64, bottom: 1024, left: 0, blur: 0 },
    { bottom: 64, blur: 32 },
    { top: 64, blur: 16 },
  ])('accepts %j', (outpaint) => {
    expectValid(withSeed(outpaint));
    expectValid(withSeed(outpaint, 'outpainting'));
  });

  it.each(['top', 'right', 'bottom', 'left'])('refuses %s 63 and -64', (side) => {
    for (const value of [63, -64, 64.5]) {
      const item = expectOnlyError(withSeed({ [side]: value }), { code: 'invalidOutpaint', parameter: `outpaint.${side}`, type: 'integer' });
      expect(item.message).toBe(`outpaint.${side} must be a multiple of 64 of at least 0; got ${value}`);
    }
  });

  it('refuses blur 33 and -1', () => {
    for (const blur of [33, -1]) {
      const item = expectOnlyError(withSeed({ top: 64, blur }), { code: 'invalidOutpaint', parameter: 'outpaint.blur' });
      expect(item.message).toBe(`outpaint.blur must be an integer from 0 to 32; got ${blur}`);
    }
  });

  it.each([{ top: 0, right: 0, bottom: 0, left: 0 }, {}, { blur: 8 }])('refuses %j, which extends nothing', (outpaint) => {
    expectOnlyError(withSeed(outpaint), {
      code: 'invalidOutpaint',
      parameter: 'outpaint',
      message: ['outpaint must extend at least one side'],
    });
  });

  it('refuses an unknown key', () => {
    expectOnlyError(withSeed({ top: 64, center: 64 }), {
      code: 'unknownParameter',
      parameter: 'outpaint.center',
      message: ['outpaint.center is not a parameter of outpaint'],
    });
  });

  it('refuses a non-object', () => {
    expectOnlyError(withSeed(64), { code: 'invalidOutpaint', parameter: 'outpaint', message: ['outpaint must be an object', 'got 64'] });
    expectOnlyError(withSeed([64]), { code: 'invalidOutpaint', parameter: 'outpaint', message: ['got an array of 1'] });
  });

  it.each(['outpaint', 'outpainting'])('needs a seedImage for %s', (name) => {
    expectOnlyError(baseRequest({ [name]: { top: 64 } }), {
      code: 'missingSeedImage',
      parameter: 'seedImage',
      message: ['seedImage is required for outpainting', `${name} was given`],
    });
  });

  it('checks the alias outpainting under its own name', () => {
    expectOnlyError(withSeed({ top: 63 }, 'outpainting'), { code: 'invalidOutpaint', parameter: 'outpainting.top' });
  });

  it('refuses outpaint and outpainting together', () => {
    expectOnlyError(baseRequest({ seedImage: IMAGE_UUID, outpaint: { top: 64 }, outpainting: { top: 64 } }), {
      code: 'conflictingParameters',
      parameter: 'outpainting',
      message: ['outpainting is another name of outpaint', 'give only one'],
    });
  });
});

describe('refiner', () => {
  const refiner = (fields: Task, extra: Task = {}): Task => baseRequest({ refiner: { model: 'civitai:101055@128080', ...fields }, ...extra });

  it('accepts a refiner with only a model', () => expectValid(refiner({})));

  it('requires a model', () => {
    expectOnlyError(baseRequest({ refiner: { startStep: 10 } }), {
      code: 'invalidRefiner',
      parameter: 'refiner.model',
      message: ['refiner.model is required'],
    });
  });

  it('requires an AIR model', () => {
    expectOnlyError(refiner({ model: 'sdxl-refiner' }), { code: 'invalidRefiner', parameter: 'refiner.model', message: ['must be an AIR identifier', 'got "sdxl-refiner"'] });
  });

  it('bounds startStep by the default of 20 steps when steps is absent', () => {
    expectValid(refiner({ startStep: 2 }));
    expectValid(refiner({ startStep: 20 }));
    for (const startStep of [1, 21]) {
      const item = expectOnlyError(refiner({ startStep }), { code: 'invalidRefiner', parameter: 'refiner.startStep', type: 'integer' });
      expect(item.message).toBe(`refiner.startStep must be an integer from 2 to steps (20); got ${startStep}`);
    }
  });

  it("bounds startStep by the task's own steps", () => {
    expectValid(refiner({ startStep: 50 }, { steps: 50 }));
    const item = expectOnlyError(refiner({ startStep: 51 }, { steps: 50 }), { code: 'invalidRefiner', parameter: 'refiner.startStep' });
    expect(item.message).toBe('refiner.startStep must be an integer from 2 to steps (50); got 51');
    expectOnlyError(refiner({ startStep: 2 }, { steps: 1 }), { code: 'invalidRefiner', parameter: 'refiner.startStep', message: ['from 2 to steps (1)', 'got 2'] });
  });

  it('falls back to 20 steps for the window when steps itself is invalid, reporting steps only', () => {
    expectOnlyError(refiner({ startStep: 15 }, { steps: 0 }), { code: 'invalidSteps', parameter: 'steps' });
  });

  it.each([1, 50, 99])('accepts startStepPercentage %d', (startStepPercentage) => expectValid(refiner({ startStepPercentage })));
  it.each([0, 100, 50.5])('refuses startStepPercentage %d', (startStepPercentage) => {
    const item = expectOnlyError(refiner({ startStepPercentage }), { code: 'invalidRefiner', parameter: 'refiner.startStepPercentage' });
    expect(item.message).toBe(`refiner.startStepPercentage must be an integer from 1 to 99; got ${startStepPercentage}`);
  });

  it('refuses startStep and startStepPercentage together', () => {
    expectOnlyError(refiner({ startStep: 10, startStepPercentage: 50 }), {
      code: 'conflictingParameters',
      parameter: 'refiner.startStepPercentage',
      message: ['refiner.startStep and refiner.startStepPercentage are alternatives'],
    });
  });

  it('refuses a non-object and unknown keys', () => {
    expectOnlyError(baseRequest({ refiner: 'civitai:101055@128080' }), { code: 'invalidRefiner', parameter: 'refiner', message: ['refiner must be an object'] });
    expectOnlyError(refiner({ endStep: 10 }), { code: 'unknownParameter', parameter: 'refiner.endStep', message: ['refiner.endStep is not a parameter of refiner'] });
  });
});

describe.each([
  ['embeddings', 'invalidEmbeddings', 'civitai:1044536@1172007'],
  ['lora', 'invalidLora', 'runware:13090@1'],
] as const)('%s', (name, code, model) => {
  const list = (...entries: unknown[]): Task => baseRequest({ [name]: entries });

  it.each([-4, -1.5, 0, 1, 4])('accepts weight %d', (weight) => expectValid(list({ model, weight })));
  it('accepts an entry without weight, an empty list and 20 entries', () => {
    expectValid(list({ model }));
    expectValid(list());
    expectValid(list(...Array.from({ length: 20 }, () => ({ model }))));
  });

  it.each([-4.01, 4.01, 10])('refuses weight %d', (weight) => {
    const item = expectOnlyError(list({ model, weight }), { code, parameter: `${name}[0].weight`, type: 'float' });
    expect(item.message).toBe(`${name}[0].weight must be a number from -4 to 4; got ${weight}`);
  });

  it('names the index of the bad entry', () => {
    expectOnlyError(list({ model }, { model, weight: 5 }), { code, parameter: `${name}[1].weight` });
  });

  it('requires an AIR model', () => {
    expectOnlyError(list({ weight: 1 }), { code, parameter: `${name}[0].model`, message: [`${name}[0].model is required`] });
    expectOnlyError(list({ model: 'style.pt' }), { code, parameter: `${name}[0].model`, message: ['must be an AIR identifier', 'got "style.pt"'] });
  });

  it('refuses more than 20 entries', () => {
    const item = expectOnlyError(list(...Array.from({ length: 21 }, () => ({ model }))), { code, parameter: name, type: 'array' });
    expect(item.message).toBe(`${name} must have at most 20 entries; got 21`);
  });

  it('refuses a non-object entry, only that entry', () => {
    expectOnlyError(list({ model }, 'civitai:1@1', { model }), { code, parameter: `${name}[1]`, message: [`${name}[1] must be an object`, 'got "civitai:1@1"'] });
    expectOnlyError(list(null), { code, parameter: `${name}[0]`, message: ['got null'] });
  });

  it('refuses a non-array and unknown keys', () => {
    expectOnlyError(baseRequest({ [name]: { model } }), { code, parameter: name, message: [`${name} must be an array`, 'got an object'] });
    expectOnlyError(list({ model, scale: 1 }), { code: 'unknownParameter', parameter: `${name}[0].scale` });
  });
});

describe('controlNet', () => {
  const MODEL = 'civitai:38784@44716';
  const entry = (fields: Task = {}): Task => ({ model: MODEL, guideImage: JPEG_DATA_URI, ...fields });
  const cn = (fields: Task = {}, extra: Task = {}): Task => baseRequest({ controlNet: [entry(fields)], ...extra });

  it('accepts a minimal entry and several entries', () => {
    expectValid(cn());
    expectValid(baseRequest({ controlNet: [entry(), entry({ model: 'runware:20@1' }), entry({ weight: 0.5 })] }));
  });

  it('requires model and guideImage', () => {
    expectOnlyError(baseRequest({ controlNet: [{ guideImage: IMAGE_UUID }] }), { code: 'invalidControlNet', parameter: 'controlNet[0].model', message: ['controlNet[0].model is required'] });
    expectOnlyError(baseRequest({ controlNet: [{ model: MODEL }] }), { code: 'invalidControlNet', parameter: 'controlNet[0].guideImage', message: ['controlNet[0].guideImage is required'] });
    expectOnlyError(cn({ model: '' }), { code: 'invalidControlNet', parameter: 'controlNet[0].model', message: ['got 0 characters'] });
  });

  it.each([0, 0.5, 1])('accepts weight %d', (weight) => expectValid(cn({ weight })));
  it.each([-0.01, 1.01])('refuses weight %d', (weight) => {
    const item = expectOnlyError(cn({ weight }), { code: 'invalidControlNet', parameter: 'controlNet[0].weight', type: 'float' });
    expect(item.message).toBe(`controlNet[0].weight must be a number from 0 to 1; got ${weight}`);
  });

  it('bounds startStep from 1 to steps (default 20)', () => {
    expectValid(cn({ startStep: 1 }));
    expectValid(cn({ startStep: 20 }));
    for (const startStep of [0, 21, 1.5]) {
      const item = expectOnlyError(cn({ startStep }), { code: 'invalidControlNet', parameter: 'controlNet[0].startStep' });
      expect(item.message).toBe(`controlNet[0].startStep must be an integer from 1 to steps (20); got ${startStep}`);
    }
  });

  it("bounds startStep by the task's own steps", () => {
    expectValid(cn({ startStep: 8 }, { steps: 8 }));
    expectOnlyError(cn({ startStep: 9 }, { steps: 8 }), { code: 'invalidControlNet', parameter: 'controlNet[0].startStep', message: ['from 1 to steps (8)', 'got 9'] });
  });

  it.each([0, 50, 99])('accepts startStepPercentage %d', (startStepPercentage) => expectValid(cn({ startStepPercentage })));
  it.each([100, -1])('refuses startStepPercentage %d', (startStepPercentage) => {
    const item = expectOnlyError(cn({ startStepPercentage }), { code: 'invalidControlNet', parameter: 'controlNet[0].startStepPercentage' });
    expect(item.message).toBe(`controlNet[0].startStepPercentage must be an integer from 0 to 99; got ${startStepPercentage}`);
  });

  it('bounds endStep above startStep and up to steps', () => {
    expectValid(cn({ startStep: 5, endStep: 6 }));
    expectValid(cn({ startStep: 5, endStep: 20 }));
    expectValid(cn({ startStep: 5, endStep: 30 }, { steps: 30 }));
    const same = expectOnlyError(cn({ startStep: 5, endStep: 5 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStep' });
    expect(same.message).toBe('controlNet[0].endStep must be an integer from startStep + 1 (6) to steps (20); got 5');
    expectOnlyError(cn({ startStep: 5, endStep: 21 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStep', message: ['to steps (20)', 'got 21'] });
    expectOnlyError(cn({ startStep: 5, endStep: 31 }, { steps: 30 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStep', message: ['to steps (30)', 'got 31'] });
  });

  it('bounds endStep without startStep to 1..steps', () => {
    expectValid(cn({ endStep: 20 }));
    expectOnlyError(cn({ endStep: 0 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStep', message: ['from 1 to steps (20)', 'got 0'] });
  });

  it('bounds endStepPercentage above startStepPercentage and up to 100', () => {
    expectValid(cn({ startStepPercentage: 30, endStepPercentage: 31 }));
    expectValid(cn({ startStepPercentage: 30, endStepPercentage: 100 }));
    expectValid(cn({ startStepPercentage: 99, endStepPercentage: 100 }));
    const same = expectOnlyError(cn({ startStepPercentage: 30, endStepPercentage: 30 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStepPercentage' });
    expect(same.message).toBe('controlNet[0].endStepPercentage must be an integer from startStepPercentage + 1 (31) to 100; got 30');
    expectOnlyError(cn({ startStepPercentage: 30, endStepPercentage: 101 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStepPercentage', message: ['got 101'] });
    expectValid(cn({ endStepPercentage: 100 }));
    expectOnlyError(cn({ endStepPercentage: 0 }), { code: 'invalidControlNet', parameter: 'controlNet[0].endStepPercentage', message: ['from 1 to 100', 'got 0'] });
  });

  it.each(['prompt', 'controlnet', 'balanced'])('accepts controlMode %s', (controlMode) => expectValid(cn({ controlMode })));
  it.each(['Prompt', 'both', 3])('refuses controlMode %j', (controlMode) => {
    expectOnlyError(cn({ controlMode }), {
      code: 'invalidControlNet',
      parameter: 'controlNet[0].controlMode',
      message: ['controlNet[0].controlMode must be one of prompt, controlnet, balanced', `got ${JSON.stringify(controlMode)}`],
    });
  });

  it('refuses alternatives given together', () => {
    expectOnlyError(cn({ startStep: 2, startStepPercentage: 10 }), {
      code: 'conflictingParameters',
      parameter: 'controlNet[0].startStepPercentage',
      message: ['controlNet[0].startStep and startStepPercentage are alternatives'],
    });
    expectOnlyError(cn({ endStep: 10, endStepPercentage: 50 }), {
      code: 'conflictingParameters',
      parameter: 'controlNet[0].endStepPercentage',
      message: ['controlNet[0].endStep and endStepPercentage are alternatives'],
    });
  });

  it('names the index of the bad entry and refuses more than 20 entries', () => {
    expectOnlyError(baseRequest({ controlNet: [entry(), entry(), entry({ weight: 2 })] }), { code: 'invalidControlNet', parameter: 'controlNet[2].weight' });
    expectValid(baseRequest({ controlNet: Array.from({ length: 20 }, () => entry()) }));
    expectOnlyError(baseRequest({ controlNet: Array.from({ length: 21 }, () => entry()) }), { code: 'invalidControlNet', parameter: 'controlNet', message: ['at most 20 entries', 'got 21'] });
  });

  it('refuses unknown keys and non-object entries', () => {
    expectOnlyError(cn({ strength: 1 }), { code: 'unknownParameter', parameter: 'controlNet[0].strength', message: ['controlNet[0].strength is not a parameter of controlNet[0]'] });
    expectOnlyError(baseRequest({ controlNet: [entry(), 7] }), { code: 'invalidControlNet', parameter: 'controlNet[1]', message: ['must be an object', 'got 7'] });
  });
});

describe('ipAdapters', () => {
  const listed = ['runware:55@1', 'runware:55@2', 'runware:55@3', 'runware:55@4', 'runware:55@5', 'runware:55@6', 'runware:55@7', 'runware:55@8', 'runware:55@10'];
  const ip = (fields: Task): Task => baseRequest({ ipAdapters: [{ model: 'runware:55@1', guideImage: IMAGE_UUID, ...fields }] });

  it.each(listed)('accepts the listed model %s', (model) => expectValid(ip({ model })));
  it.each(['runware:55@9', 'runware:55@0', 'runware:55@11', 'civitai:1@1', 'runware:56@1'])('refuses the unlisted model %s', (model) => {
    expectOnlyError(ip({ model }), {
      code: 'invalidIpAdapters',
      parameter: 'ipAdapters[0].model',
      message: [`ipAdapters[0].model must be one of ${listed.join(', ')}`, `got ${JSON.stringify(model)}`],
    });
  });
  it.each([0, 0.4, 1])('accepts weight %d', (weight) => expectValid(ip({ weight })));
  it.each([-0.01, 1.01])('refuses weight %d', (weight) => {
    const item = expectOnlyError(ip({ weight }), { code: 'invalidIpAdapters', parameter: 'ipAdapters[0].weight' });
    expect(item.message).toBe(`ipAdapters[0].weight must be a number from 0 to 1; got ${weight}`);
  });
  it('requires model and guideImage', () => {
    expectOnlyError(baseRequest({ ipAdapters: [{ guideImage: IMAGE_UUID }] }), { code: 'invalidIpAdapters', parameter: 'ipAdapters[0].model', message: ['is required'] });
    expectOnlyError(baseRequest({ ipAdapters: [{ model: 'runware:55@1' }] }), { code: 'invalidIpAdapters', parameter: 'ipAdapters[0].guideImage', message: ['is required'] });
  });
});

describe('previews (imagewire extension)', () => {
  it.each([true, false, {}, { maxSide: 32 }, { maxSide: 512 }, { format: 'JPG' }, { format: 'WEBP' }, { format: 'webp', maxSide: 128 }, { count: 1 }, { count: 100, maxSide: 64 }])('accepts %j', (previews) => {
    expectValid(baseRequest({ previews }));
  });

  it.each([31, 513, 100.5])('refuses maxSide %d', (maxSide) => {
    const item = expectOnlyError(baseRequest({ previews: { maxSide } }), { code: 'invalidPreviews', parameter: 'previews.maxSide' });
    expect(item.message).toBe(`previews.maxSide must be an integer from 32 to 512; got ${maxSide}`);
  });

  it.each([0, 101, 2.5, '3'])('refuses count %j', (count) => {
    const item = expectOnlyError(baseRequest({ previews: { count } }), { code: 'invalidPreviews', parameter: 'previews.count' });
    expect(item.message).toContain('previews.count must be an integer from 1 to 100');
  });

  it('spreads a preview count evenly over the steps and never picks the last', () => {
    expect(previewSteps(25, 3)).toEqual([6, 13, 19]);
    expect(previewSteps(20, 1)).toEqual([10]);
    expect(previewSteps(4, 10)).toEqual([1, 2, 3]);
    expect(previewSteps(1, 5)).toEqual([]);
    for (let steps = 1; steps <= 60; steps++) {
      for (let count = 1; count <= 20; count++) {
        const chosen = previewSteps(steps, count);
        expect(chosen.length).toBeLessThanOrEqual(Math.min(count, steps - 1));
        expect([...chosen].sort((a, b) => a - b)).toEqual(chosen);
        expect(chosen.every((step) => Number.isInteger(step) && step >= 1 && step < steps)).toBe(true);
      }
    }
  });

  it.each(['PNG', 'GIF'])('refuses format %s', (format) => {
    expectOnlyError(baseRequest({ previews: { format } }), { code: 'invalidPreviews', parameter: 'previews.format', message: ['previews.format must be one of JPG, WEBP', `got "${format}"`] });
  });

  it.each([
    ['yes', '"yes"'],
    [1, 'got 1'],
    [[true], 'an array of 1'],
  ] as const)('refuses %j', (previews, shown) => {
    expectOnlyError(baseRequest({ previews }), { code: 'invalidPreviews', parameter: 'previews', message: ['previews must be true, false or an object', shown] });
  });

  it('refuses unknown keys', () => {
    expectOnlyError(baseRequest({ previews: { size: 64 } }), { code: 'unknownParameter', parameter: 'previews.size', message: ['previews.size is not a parameter of previews'] });
  });
});

describe('unknown parameters', () => {
  it('names an unknown top-level parameter', () => {
    const item = expectOnlyError(baseRequest({ guidanceScale: 7 }), { code: 'unknownParameter', parameter: 'guidanceScale' });
    expect(item.message).toBe('guidanceScale is not a parameter of imageInference');
  });

  it('is case-sensitive (cfgScale is not CFGScale)', () => {
    expectOnlyError(baseRequest({ cfgScale: 7 }), { code: 'unknownParameter', parameter: 'cfgScale' });
  });

  it('reports each unknown parameter', () => {
    const errors = errorsOf(baseRequest({ a: 1, b: 2 }));
    expect(errors.map((e) => [e.code, e.parameter])).toEqual([
      ['unknownParameter', 'a'],
      ['unknownParameter', 'b'],
    ]);
  });
});

describe('taskUUID and taskType of an imageInference task', () => {
  it('requires a taskUUID', () => {
    expectOnlyError(baseWithout('taskUUID'), { code: 'missingTaskUUID', parameter: 'taskUUID', taskUUID: null, message: ['taskUUID is required'] });
  });

  it.each([
    ['not a UUID', 'not-a-uuid'],
    ['a UUID v1', UUID_V1],
    ['a v4 with a wrong variant', '39d7207a-87ef-4c93-c082-1431f9c1dc97'],
    ['a UUID without dashes', '39d7207a87ef4c9380821431f9c1dc97'],
    ['a braced UUID', `{${TASK_UUID}}`],
  ])('refuses %s', (_label, taskUUID) => {
    expectOnlyError(baseRequest({ taskUUID }), {
      code: 'invalidTaskUUID',
      parameter: 'taskUUID',
      taskUUID,
      message: ['taskUUID must be a UUID v4 string', `got ${JSON.stringify(taskUUID)}`],
    });
  });

  it('refuses a non-string taskUUID, without a taskUUID on the item', () => {
    expectOnlyError(baseRequest({ taskUUID: 42 }), { code: 'invalidTaskUUID', parameter: 'taskUUID', taskUUID: null, message: ['taskUUID must be a UUID v4 string'] });
  });

  it('accepts an upper-case UUID v4', () => {
    expectValid(baseRequest({ taskUUID: TASK_UUID.toUpperCase() }));
  });

  it('requires a taskType', () => {
    expectOnlyError(baseWithout('taskType'), { code: 'missingTaskType', parameter: 'taskType', taskType: null, message: ['taskType is required'] });
  });

  it.each(['imageinference', 'textToImage', 42])('refuses the unknown taskType %j', (taskType) => {
    const item = expectOnlyError(baseRequest({ taskType }), {
      code: 'unknownTaskType',
      parameter: 'taskType',
      taskType: typeof taskType === 'string' ? taskType : null,
      message: ['taskType must be one of authentication, ping, imageInference, imageUpload, getResponse, cancel'],
    });
    expect(item.message).toContain(typeof taskType === 'string' ? `got "${taskType}"` : `got ${taskType}`);
  });
});

describe('all problems at once', () => {
  it('reports five independent problems as five items', () => {
    const errors = errorsOf(baseRequest({ width: 500, steps: 0, CFGScale: 31, outputType: 'png', foo: true }));
    expect(errors).toHaveLength(5);
    expect(errors.map((e) => `${e.code}:${e.parameter}`).sort()).toEqual(
      ['invalidWidth:width', 'invalidSteps:steps', 'invalidCFGScale:CFGScale', 'invalidOutputType:outputType', 'unknownParameter:foo'].sort(),
    );
    for (const error of errors) {
      expect(error.taskType).toBe('imageInference');
      expect(error.taskUUID).toBe(TASK_UUID);
    }
  });

  it('reports missing required parameters together', () => {
    const errors = errorsOf({ taskType: 'imageInference', taskUUID: TASK_UUID });
    expect(errors.map((e) => e.code).sort()).toEqual(['missingHeight', 'missingModel', 'missingPositivePrompt', 'missingWidth']);
  });

  it('reports problems inside lists next to top-level ones', () => {
    const errors = errorsOf(
      baseRequest({
        height: 100,
        lora: [{ model: 'runware:1@1', weight: 9 }],
        controlNet: [{ model: 'runware:20@1', guideImage: 'abc', startStep: 0 }],
        refiner: { startStepPercentage: 100 },
      }),
    );
    expect(errors.map((e) => e.parameter).sort()).toEqual(
      ['controlNet[0].guideImage', 'controlNet[0].startStep', 'height', 'lora[0].weight', 'refiner.model', 'refiner.startStepPercentage'].sort(),
    );
  });

  it('reports every item with a string message and a type', () => {
    const errors = errorsOf(baseRequest({ width: '1', seedImage: 5, checkNSFW: 'no', embeddings: 'x', previews: { maxSide: 1 } }));
    expect(errors).toHaveLength(5);
    for (const error of errors) {
      expect(error.message.length).toBeGreaterThan(0);
      expect(['string', 'integer', 'float', 'boolean', 'object', 'array']).toContain(error.type);
    }
    expectSomeError(baseRequest({ width: '1' }), { code: 'invalidWidth', parameter: 'width' });
  });
});
