// One image (a final result or a preview) as bytes, with its base64, data URI and URL forms
// computed only when asked for. Binary frames hand over bytes; JSON frames hand over base64,
// decoded on first use of `bytes`.
import { base64ToBytes, bytesToBase64, sniffImageFormat } from '../internal/bytes.js';
import type { OutputFormat, ServerDataItem } from '../protocol/index.js';
import { ImagewireError } from './errors.js';

const mediaTypes: Record<OutputFormat, string> = { PNG: 'image/png', JPG: 'image/jpeg', WEBP: 'image/webp' };
const DATA_URI = /^data:([^;,]+);base64,/;

/** Where an image's content came from. */
export type ImageSource = { readonly bytes: Uint8Array } | { readonly base64: string } | { readonly url: string };

function text(item: ServerDataItem, key: string): string | undefined {
  const value = item[key];
  return typeof value === 'string' ? value : undefined;
}

function number(item: ServerDataItem, key: string): number | undefined {
  const value = item[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function format(value: unknown): OutputFormat | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  if (upper === 'JPEG') return 'JPG';
  return upper === 'PNG' || upper === 'JPG' || upper === 'WEBP' ? upper : undefined;
}

/** An image of a task. Lazy: nothing is decoded or encoded until a getter asks for it. */
export class ImageResult {
  /** The task this image belongs to. */
  readonly taskUUID: string;
  /** The image's UUID (usable as seedImage, maskImage or guideImage); empty for previews. */
  readonly imageUUID: string;
  /** Result index within the task (0-based). */
  readonly index: number;
  /** The seed this image was made with, when the server says. */
  readonly seed: number | undefined;
  /** Cost in USD, with `includeCost`. */
  readonly cost: number | undefined;
  /** With `checkNSFW`: whether the server flagged the image. */
  readonly NSFWContent: boolean | undefined;
  /** Pixel size, when the server says (previews always do). */
  readonly width: number | undefined;
  readonly height: number | undefined;
  /** The server's URL of the image (outputType URL), if it gave one. */
  readonly imageURL: string | undefined;
  /** The raw result item, as the server sent it (without image data for binary results). */
  readonly item: ServerDataItem;
  #bytes: Uint8Array | undefined;
  #base64: string | undefined;
  #dataURI: string | undefined;
  #format: OutputFormat | undefined;

  /** @internal built by the client from a result item; `bytes` for binary results. */
  constructor(item: ServerDataItem, index: number, bytes?: Uint8Array) {
    this.item = item;
    this.taskUUID = text(item, 'taskUUID') ?? '';
    this.imageUUID = text(item, 'imageUUID') ?? '';
    this.index = index;
    this.seed = number(item, 'seed');
    this.cost = number(item, 'cost');
    this.NSFWContent = typeof item.NSFWContent === 'boolean' ? item.NSFWContent : undefined;
    this.width = number(item, 'width');
    this.height = number(item, 'height');
    this.imageURL = text(item, 'imageURL');
    this.#format = format(item.imageFormat);
    this.#bytes = bytes;
    const dataURI = text(item, 'imageDataURI');
    if (dataURI !== undefined) {
      const match = DATA_URI.exec(dataURI);
      this.#dataURI = dataURI;
      this.#base64 = match === null ? undefined : dataURI.slice(match[0].length);
      this.#format ??= format(match?.[1]?.split('/')[1]);
    } else {
      this.#base64 = text(item, 'imageBase64Data');
    }
  }

  /** True when the image's bytes are here (not only a URL to fetch them from). */
  get hasBytes(): boolean {
    return this.#bytes !== undefined || this.#base64 !== undefined;
  }

  /**
   * The encoded image (PNG, JPG or WEBP). Decoded from base64 on first use and kept.
   * @throws ImagewireError `imageNotLoaded` when the server sent only a URL; use {@link load}.
   */
  get bytes(): Uint8Array {
    if (this.#bytes !== undefined) return this.#bytes;
    if (this.#base64 === undefined) {
      throw new ImagewireError('imageNotLoaded', `image ${this.imageUUID} came as a URL only (outputType "URL"); call load() to fetch it`);
    }
    this.#bytes = base64ToBytes(this.#base64);
    return this.#bytes;
  }

  /** The encoded format, from the server's `imageFormat` or the bytes' signature. */
  get format(): OutputFormat | undefined {
    if (this.#format === undefined && this.hasBytes) this.#format = sniffImageFormat(this.bytes);
    return this.#format;
  }

  /** The media type, e.g. `image/png`. */
  get mediaType(): string {
    const known = this.format;
    return known === undefined ? 'application/octet-stream' : mediaTypes[known];
  }

  /** Standard base64 of the bytes, computed on first use. */
  get base64(): string {
    this.#base64 ??= bytesToBase64(this.bytes);
    return this.#base64;
  }

  /** `data:<mediaType>;base64,...`, computed on first use. */
  get dataURI(): string {
    this.#dataURI ??= `data:${this.mediaType};base64,${this.base64}`;
    return this.#dataURI;
  }

  /** A URL for the image: the server's URL when it gave one, else the data URI. */
  get url(): string {
    return this.imageURL ?? this.dataURI;
  }

  /** A `blob:` URL of the bytes (browsers); revoke it with URL.revokeObjectURL when done. */
  createObjectURL(): string {
    const bytes = this.bytes;
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return URL.createObjectURL(new Blob([copy.buffer], { type: this.mediaType }));
  }

  /** The bytes, fetched from `imageURL` with `fetch` when only a URL came. */
  async load(options: { signal?: AbortSignal; fetch?: typeof fetch } = {}): Promise<Uint8Array> {
    if (this.hasBytes) return this.bytes;
    const url = this.imageURL;
    if (url === undefined) throw new ImagewireError('imageNotLoaded', `image ${this.imageUUID} has neither bytes nor a URL`);
    const doFetch = options.fetch ?? globalThis.fetch;
    const response = await doFetch(url, options.signal === undefined ? {} : { signal: options.signal });
    if (!response.ok) throw new ImagewireError('httpError', `fetching ${url} failed with HTTP ${response.status}`);
    this.#bytes = new Uint8Array(await response.arrayBuffer());
    return this.#bytes;
  }
}
