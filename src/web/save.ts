// Saving the live page's current picture as a PNG file: the final's own bytes when the canvas shows a
// final PNG (exactly what the server made), otherwise the canvas encoded as PNG.

/** The bytes of a final image on the canvas. */
export interface FinalBytes {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
}

/** The PNG to save for what the canvas shows. */
export async function pictureBlob(canvas: HTMLCanvasElement, final: FinalBytes | undefined): Promise<Blob> {
  if (final?.mediaType === 'image/png') return new Blob([final.bytes.slice()], { type: 'image/png' });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob === null ? reject(new Error('the canvas could not be encoded as PNG')) : resolve(blob)), 'image/png');
  });
}

/** Hands `blob` to the browser as a download named `name`. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoked later, not at once: some browsers read the blob after click() returns. Unrevoked, the URL
  // would keep the blob alive as long as the page.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
