// The preview message a worker publishes on a node's channel (`p <session> <frame>`): read back as
// the frame it carried, refused past 256 KiB, and anything else on the channel left as it was read.
import { describe, expect, it } from 'vitest';
import { maxPreviewMessageBytes, parseNodeMessage, previewMessage } from '../../src/server/cluster/session-log.js';
import type { ServerFrame } from '../../src/server/core/server-frame.js';

const session = '0d3c1e2f-1b2c-4d3e-8f4a-5b6c7d8e9f0a';

function preview(base64Length: number): ServerFrame {
  return { kind: 'data', items: [{ taskType: 'imageInference', taskUUID: 't', preview: true, index: 0, step: 3, steps: 8, imageBase64Data: 'A'.repeat(base64Length), imageFormat: 'JPG' }] };
}

describe('node channel preview messages', () => {
  it('carries a preview frame to the node as it was', () => {
    const frame = preview(2000);
    const message = previewMessage(session, frame);
    expect(message?.startsWith(`p ${session} `)).toBe(true);
    expect(parseNodeMessage(message ?? '')).toEqual({ kind: 'preview', session, frame });
  });

  it('refuses a preview larger than 256 KiB', () => {
    expect(previewMessage(session, preview(maxPreviewMessageBytes))).toBeUndefined();
    expect(previewMessage(session, preview(maxPreviewMessageBytes - 1000))).toBeDefined();
  });

  it('reads the other kinds as before and ignores a malformed preview', () => {
    expect(parseNodeMessage(session)).toEqual({ kind: 'wake', session });
    expect(parseNodeMessage(`evict ${session} 3`)).toEqual({ kind: 'evict', session, gen: 3 });
    expect(parseNodeMessage(`p ${session} {not json`)).toBeUndefined();
    expect(parseNodeMessage(`p ${session}`)).toBeUndefined();
    expect(parseNodeMessage(`p ${session} {"k":"e","errors":[]}`)).toBeUndefined();
  });
});
