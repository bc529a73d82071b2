// Generators of hostile input for the server fuzz test: JSON texts (deep nesting, huge numbers and
// strings, prototype keys, wrong types at every field of every task type), raw bytes, and malformed
// HTTP request heads. Everything is built as text, so keys like __proto__ reach the wire as keys.
import fc from 'fast-check';

/** Keys the server reads somewhere, and keys that break naive object handling. */
const knownKeys = [
  'taskType', 'taskUUID', 'apiKey', 'connectionSessionUUID', 'extensions', 'ack', 'ping',
  'positivePrompt', 'negativePrompt', 'model', 'width', 'height', 'steps', 'seed', 'numberResults',
  'CFGScale', 'clipSkip', 'scheduler', 'outputType', 'outputFormat', 'outputQuality', 'checkNSFW',
  'includeCost', 'seedImage', 'maskImage', 'maskMargin', 'strength', 'outpaint', 'controlNet',
  'ipAdapters', 'lora', 'embeddings', 'refiner', 'vae', 'previews', 'webhookURL', 'uploadEndpoint',
  'deliveryMethod', 'ttl', 'image', 'guideImage', 'weight', 'startStep', 'endStep', 'maxSide', 'count',
  'prompt', 'n', 'size', 'response_format', 'stream', 'partial_images', 'name', 'ttlSeconds', 'format',
] as const;
const prototypeKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'then'] as const;

const key = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...knownKeys) },
  { weight: 3, arbitrary: fc.constantFrom(...prototypeKeys) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
);

/** A JSON number literal, including ones no double holds exactly and ones at the edge of range. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom('0', '-0', '1e308', '-1e308', '1e-400', '1E+999', '9007199254740993', '9223372036854775807', '9223372036854775808', '18446744073709551616', '0.0000000000000000000001', '123456789012345678901234567890.5'),
);

/** A JSON string literal: short, long, unicode, or lone surrogates (escaped). */
const stringText = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 400_000 }).map((length) => `"${'x'.repeat(length)}"`) },
  { weight: 1, arbitrary: fc.constantFrom('"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"http://127.0.0.1:1/x.png"', '"data:image/png;base64,AAAA"', '"iwt_AAAA"', '"__BLANK__"') },
);

const scalarText = fc.oneof(fc.constantFrom('null', 'true', 'false'), numberText, stringText);

/** Any JSON value as text, a few levels deep, with hostile keys and values. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 6 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 8 }).map((entries) => `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`),
})).value;

/** A value nested `depth` levels deep, as arrays or objects. */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 500, max: 200_000 }), fc.constantFrom('array', 'object', 'mixed'))
  .map(([depth, shape]) => {
    if (shape === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (shape === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `${'[{"a":'.repeat(depth / 2)}1${'}]'.repeat(depth / 2)}`;
  });

/** An object with very many keys (unknown ones, or prototype names repeated). */
export const wideText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1_000, max: 120_000 }), fc.constantFrom('unknown', 'proto', 'long'))
  .map(([count, kind]) => {
    const keys = Array.from({ length: count }, (_, i) => (kind === 'unknown' ? `k${i}` : kind === 'proto' ? `__proto__${i % 2 === 0 ? '' : i}` : `${'k'.repeat(200)}${i}`));
    return `{${keys.map((name) => `"${name}":1`).join(',')}}`;
  });

/** Any hostile value: nested, deep or wide. */
export const hostileValue: fc.Arbitrary<string> = fc.oneof({ weight: 4, arbitrary: jsonText }, { weight: 2, arbitrary: deepText }, { weight: 1, arbitrary: wideText });

/** Valid-looking tasks of every type, as objects of JSON texts, to be broken field by field. */
function templates(taskUUID: string): Record<TaskKind, Record<string, string>> {
  const uuid = JSON.stringify(taskUUID);
  return {
    authentication: { taskType: '"authentication"', apiKey: '"fuzz-key"' },
    ping: { taskType: '"ping"', ping: 'true' },
    enableExtensions: { taskType: '"enableExtensions"', extensions: '["ack","binaryResults"]', ack: '0' },
    imageInference: {
      taskType: '"imageInference"', taskUUID: uuid, positivePrompt: '"a red fox"', model: '"imagewire:1@1"', width: '128', height: '128', steps: '2',
      outputType: '"base64Data"', outputFormat: '"PNG"', numberResults: '1',
    },
    imageUpload: { taskType: '"imageUpload"', taskUUID: uuid, image: '"data:image/png;base64,iVBORw0KGgo="' },
    getResponse: { taskType: '"getResponse"', taskUUID: uuid },
    cancel: { taskType: '"cancel"', taskUUID: uuid },
  };
}

type TaskKind = 'authentication' | 'ping' | 'enableExtensions' | 'imageInference' | 'imageUpload' | 'getResponse' | 'cancel';

/** The fields each task type reads, so that most replacements hit a field that is checked. */
const fieldsOf: Readonly<Record<TaskKind, readonly string[]>> = {
  authentication: ['apiKey', 'connectionSessionUUID', 'extensions', 'ack', 'taskType'],
  ping: ['ping', 'ack', 'taskUUID', 'taskType'],
  enableExtensions: ['extensions', 'ack', 'taskType'],
  imageInference: [
    'positivePrompt', 'negativePrompt', 'model', 'width', 'height', 'steps', 'seed', 'numberResults', 'CFGScale', 'clipSkip', 'scheduler',
    'outputType', 'outputFormat', 'outputQuality', 'checkNSFW', 'includeCost', 'seedImage', 'maskImage', 'maskMargin', 'strength', 'outpaint',
    'controlNet', 'ipAdapters', 'lora', 'embeddings', 'refiner', 'vae', 'previews', 'webhookURL', 'uploadEndpoint', 'deliveryMethod', 'ttl', 'taskUUID',
  ],
  imageUpload: ['image', 'taskUUID'],
  getResponse: ['taskUUID'],
  cancel: ['taskUUID'],
};

/** A task of some type with some of its fields (or new ones) replaced by hostile values. */
export const brokenTask: fc.Arbitrary<string> = fc
  .constantFrom<TaskKind>('authentication', 'ping', 'enableExtensions', 'imageInference', 'imageUpload', 'getResponse', 'cancel')
  .chain((type) =>
    fc.tuple(
      fc.constant(type),
      fc.uuid({ version: 4 }),
      fc.array(fc.tuple(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fieldsOf[type]) }, { weight: 1, arbitrary: key }), hostileValue), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
    ),
  )
  .map(([type, uuid, replacements, withTtl]) => {
    const task: Record<string, string> = { ...templates(uuid)[type] };
    for (const [name, value] of replacements) task[name] = value;
    if (withTtl && type === 'imageInference') task.ttl = '60';
    return `{${Object.entries(task).map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`;
  });

/** A whole client frame: an array of broken tasks, a bare hostile value, or a wrapped one. */
export const hostileFrame: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(brokenTask, { minLength: 1, maxLength: 4 }).map((tasks) => `[${tasks.join(',')}]`) },
  { weight: 2, arbitrary: hostileValue },
  { weight: 1, arbitrary: hostileValue.map((value) => `[${value}]`) },
);

/** Arbitrary bytes, as a binary frame or an HTTP body. */
export const hostileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(fc.uint8Array({ maxLength: 2_048 }), fc.uint8Array({ minLength: 60_000, maxLength: 200_000 }));

/** HTTP routes the server answers, and some it does not. */
const paths = [
  '/v1', '/v1/', '/v1/tokens', '/page/token', '/', '/index.html', '/page/page.js', '/healthz', '/v1/models', '/v1/models/x%zz',
  '/v1/images/generations', '/v1/images/edits', '/v1/images/imagine', '/v1/images/image_00000000000000000000000000000000',
  '/v1/images/image_00000000000000000000000000000000/publish', '/images/00000000-0000-4000-8000-000000000000.png',
  '/public/images/image_00000000000000000000000000000000.png', '/nothing', '//[/v1', '/%', '/v1?%zz=%', '/v1#x',
] as const;

const contentTypes = [
  undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'multipart/form-data', 'image/png', 'application/json; charset=latin1', '\u0000',
] as const;

/** One HTTP request through fetch: method, path, content type, credential and body. */
export interface HostileRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly origin: string | undefined;
  readonly body: string | Uint8Array | undefined;
}

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  path: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.webPath() }),
  contentType: fc.constantFrom(...contentTypes),
  authorization: fc.constantFrom(undefined, 'Bearer fuzz-key', 'Bearer iwt_AAAA', 'Bearer ', 'Basic eDp5', `Bearer ${'k'.repeat(5000)}`),
  origin: fc.constantFrom(undefined, 'https://evil.example', 'null'),
  body: fc.oneof(fc.constant(undefined), hostileFrame, hostileValue, hostileBytes),
});

/** A malformed (or merely odd) HTTP/1.1 request head, sent over a raw TCP socket. */
export const hostileRequestHead: fc.Arbitrary<string> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'G\u0000T', 'GE T', ''), fc.string({ unit: 'binary-ascii', maxLength: 10 })),
    target: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('//[/v1', '/v1', '*', 'http://[', '%', '/%zz', '/v1?\u0000', 'http://x:99999/v1', '/v1 /v1', '', '/'.repeat(20_000), '/v1/%', '//x/v1', 'ws://[::1/v1') }, { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) }),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', 'HTTP/1', 'FOO', ''),
    upgrade: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    headers: fc.array(
      fc.oneof(
        fc.constantFrom('Host: 127.0.0.1', 'Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked, identity', 'Origin: https://evil.example', 'Content-Type: text/plain', 'Authorization: Bearer fuzz-key', 'Sec-WebSocket-Version: 8', 'Connection: keep-alive, Upgrade'),
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
        fc.integer({ min: 1_000, max: 100_000 }).map((length) => `X-Big: ${'a'.repeat(length)}`),
      ),
      { maxLength: 6 },
    ),
    body: fc.oneof(fc.constant(''), fc.constantFrom('5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '0\r\n\r\n', '[{"taskType":"ping"}]'), fc.string({ unit: 'binary-ascii', maxLength: 200 })),
  })
  .map(({ method, target, version, upgrade, headers, body }) => {
    const lines = [`${method} ${target} ${version}`.trimEnd()];
    if (upgrade) lines.push('Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13');
    lines.push(...headers);
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  });
