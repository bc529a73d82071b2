// normalizeImageInference: defaults from the parameter tables, older names folded into newer ones,
// values given kept as they are. The expected defaults are the seed tables' own numbers.
import { describe, it, expect } from 'vitest';
import { normalizeImageInference, type ImageInferenceTask } from '../../src/protocol/index.js';
import { baseRequest, IMAGE_UUID, richRequest, validTask, type Task } from './fixtures.js';

function normalized(task: Task) {
  return normalizeImageInference(validTask(task) as ImageInferenceTask);
}

describe('normalizeImageInference', () => {
  it('applies every default of the parameter tables', () => {
    expect(normalized(baseRequest())).toEqual({
      taskType: 'imageInference',
      taskUUID: baseRequest().taskUUID,
      positivePrompt: 'a cat',
      model: 'civitai:102438@133677',
      width: 512,
      height: 512,
      outputType: 'URL',
      outputFormat: 'JPG',
      outputQuality: 95,
      checkNSFW: false,
      includeCost: false,
      strength: 0.8,
      steps: 20,
      CFGScale: 7,
      numberResults: 1,
      embeddings: [],
      controlNet: [],
      lora: [],
      ipAdapters: [],
      deliveryMethod: 'sync',
    });
  });

  it('leaves seed, clipSkip, scheduler and the other optional values without default absent', () => {
    const result = normalized(baseRequest());
    for (const key of ['seed', 'clipSkip', 'scheduler', 'negativePrompt', 'seedImage', 'maskImage', 'maskMargin', 'outpaint', 'vae', 'refiner', 'promptWeighting', 'webhookURL', 'ttl', 'previews', 'uploadEndpoint']) {
      expect(result).not.toHaveProperty(key);
    }
  });

  it('keeps every value that was given', () => {
    const task = richRequest();
    const result = normalized(task);
    for (const [key, value] of Object.entries(task)) {
      if (key === 'outputFormat' || key === 'previews') continue;
      expect(result).toHaveProperty([key], value);
    }
    expect(result.outputFormat).toBe('WEBP');
    expect(result.previews).toEqual({ maxSide: 256, format: 'WEBP' });
  });

  it.each([
    ['png', 'PNG'],
    ['Jpg', 'JPG'],
    ['webp', 'WEBP'],
    ['PNG', 'PNG'],
  ])('normalizes outputFormat %s to %s', (outputFormat, expected) => {
    expect(normalized(baseRequest({ outputFormat })).outputFormat).toBe(expected);
  });

  it('turns usePromptWeighting true into promptWeighting compel and drops the older name', () => {
    const result = normalized(baseRequest({ usePromptWeighting: true }));
    expect(result.promptWeighting).toBe('compel');
    expect(result).not.toHaveProperty('usePromptWeighting');
    const off = normalized(baseRequest({ usePromptWeighting: false }));
    expect(off).not.toHaveProperty('promptWeighting');
    expect(off).not.toHaveProperty('usePromptWeighting');
    expect(normalized(baseRequest({ promptWeighting: 'sdEmbeds' })).promptWeighting).toBe('sdEmbeds');
  });

  it('folds the alias outpainting into outpaint and fills the missing sides', () => {
    const result = normalized(baseRequest({ seedImage: IMAGE_UUID, outpainting: { left: 128 } }));
    expect(result.outpaint).toEqual({ top: 0, right: 0, bottom: 0, left: 128, blur: 0 });
    expect(result).not.toHaveProperty('outpainting');
    expect(normalized(baseRequest({ seedImage: IMAGE_UUID, outpaint: { top: 64, blur: 8 } })).outpaint).toEqual({ top: 64, right: 0, bottom: 0, left: 0, blur: 8 });
  });

  it('resolves previews', () => {
    expect(normalized(baseRequest({ previews: true })).previews).toEqual({ maxSide: 128, format: 'JPG' });
    expect(normalized(baseRequest({ previews: {} })).previews).toEqual({ maxSide: 128, format: 'JPG' });
    expect(normalized(baseRequest({ previews: { format: 'webp' } })).previews).toEqual({ maxSide: 128, format: 'WEBP' });
    expect(normalized(baseRequest({ previews: { maxSide: 64, format: 'jpg' } })).previews).toEqual({ maxSide: 64, format: 'JPG' });
    expect(normalized(baseRequest({ previews: false }))).not.toHaveProperty('previews');
  });

  it('drops optional values given as null', () => {
    const result = normalized(baseRequest({ negativePrompt: null, seed: null, outputType: null, previews: null, lora: null }));
    expect(result).not.toHaveProperty('negativePrompt');
    expect(result).not.toHaveProperty('seed');
    expect(result).not.toHaveProperty('previews');
    expect(result.outputType).toBe('URL');
    expect(result.lora).toEqual([]);
  });

  it('keeps explicit falsy values rather than defaulting them', () => {
    const result = normalized(baseRequest({ CFGScale: 0, strength: 0, checkNSFW: false, clipSkip: 0, seedImage: IMAGE_UUID }));
    expect(result.CFGScale).toBe(0);
    expect(result.strength).toBe(0);
    expect(result.clipSkip).toBe(0);
  });

  it('does not change its input', () => {
    const task = baseRequest({ outputFormat: 'png', usePromptWeighting: true, seedImage: IMAGE_UUID, outpainting: { top: 64 } });
    const copy = structuredClone(task);
    normalized(task);
    expect(task).toEqual(copy);
  });

  it('is idempotent and its output validates', () => {
    for (const task of [baseRequest(), richRequest(), baseRequest({ usePromptWeighting: true, seedImage: IMAGE_UUID, outpainting: { top: 64 }, previews: true })]) {
      const once = normalized(task);
      const twice = normalized(once as unknown as Task);
      expect(twice).toEqual(once);
    }
  });
});
