// Every rule of the imageInference parameter tables, checked at once so a caller sees all problems.
import type { TaskChecker } from './checker.js';
import { describeValue, quoteText } from './describe.js';
import {
  BLANK_PROMPT,
  controlModes,
  deliveryMethods,
  ipAdapterModels,
  limits,
  outputFormats,
  outputTypes,
  previewFormats,
  promptWeightings,
} from './rules.js';

/** Most entries accepted in embeddings, controlNet, lora and ipAdapters. */
export const MAX_LIST_ENTRIES = 20;

const topLevelParameters = new Set([
  'taskType',
  'taskUUID',
  'positivePrompt',
  'negativePrompt',
  'model',
  'width',
  'height',
  'outputType',
  'outputFormat',
  'outputQuality',
  'uploadEndpoint',
  'checkNSFW',
  'includeCost',
  'seedImage',
  'maskImage',
  'maskMargin',
  'strength',
  'outpaint',
  'outpainting',
  'vae',
  'steps',
  'scheduler',
  'seed',
  'CFGScale',
  'clipSkip',
  'promptWeighting',
  'usePromptWeighting',
  'numberResults',
  'refiner',
  'embeddings',
  'controlNet',
  'lora',
  'ipAdapters',
  'deliveryMethod',
  'webhookURL',
  'ttl',
  'previews',
]);

const outpaintKeys = new Set(['top', 'right', 'bottom', 'left', 'blur']);
const refinerKeys = new Set(['model', 'startStep', 'startStepPercentage']);
const weightedModelKeys = new Set(['model', 'weight']);
const controlNetKeys = new Set(['model', 'guideImage', 'weight', 'startStep', 'startStepPercentage', 'endStep', 'endStepPercentage', 'controlMode']);
const ipAdapterKeys = new Set(['model', 'guideImage', 'weight']);
const previewKeys = new Set(['maxSide', 'format', 'count']);

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function checkPrompts(c: TaskChecker, task: Record<string, unknown>): void {
  if (c.required(task.positivePrompt, 'positivePrompt', 'string', 'missingPositivePrompt')) {
    const prompt = c.string(task.positivePrompt, 'positivePrompt', 'invalidPositivePrompt', limits.positivePrompt);
    if (prompt !== undefined) {
      if (prompt.includes(BLANK_PROMPT) && prompt.trim() !== BLANK_PROMPT) {
        c.fail('invalidPositivePrompt', 'positivePrompt', 'string', `positivePrompt may use ${BLANK_PROMPT} only as the whole prompt; got ${quoteText(prompt)}`);
      } else if (prompt.trim().length === 0) {
        c.fail('invalidPositivePrompt', 'positivePrompt', 'string', `positivePrompt must contain text (use ${BLANK_PROMPT} for no prompt guidance); got only white space`);
      }
    }
  }
  if (present(task.negativePrompt)) {
    const negative = c.string(task.negativePrompt, 'negativePrompt', 'invalidNegativePrompt', limits.negativePrompt);
    if (negative !== undefined && negative.trim().length === 0) {
      c.fail('invalidNegativePrompt', 'negativePrompt', 'string', 'negativePrompt must contain text; got only white space');
    }
  }
}

function checkDimensions(c: TaskChecker, task: Record<string, unknown>): void {
  if (c.required(task.width, 'width', 'integer', 'missingWidth')) c.integer(task.width, 'width', 'invalidWidth', limits.dimension);
  if (c.required(task.height, 'height', 'integer', 'missingHeight')) c.integer(task.height, 'height', 'invalidHeight', limits.dimension);
}

function checkOutput(c: TaskChecker, task: Record<string, unknown>): void {
  if (present(task.outputType)) c.oneOf(task.outputType, 'outputType', 'invalidOutputType', outputTypes);
  if (present(task.outputFormat)) c.oneOf(task.outputFormat, 'outputFormat', 'invalidOutputFormat', outputFormats, true);
  if (present(task.outputQuality)) c.integer(task.outputQuality, 'outputQuality', 'invalidOutputQuality', limits.outputQuality);
  if (present(task.uploadEndpoint)) c.httpUrl(task.uploadEndpoint, 'uploadEndpoint', 'invalidUploadEndpoint');
  if (present(task.checkNSFW)) c.boolean(task.checkNSFW, 'checkNSFW', 'invalidCheckNSFW');
  if (present(task.includeCost)) c.boolean(task.includeCost, 'includeCost', 'invalidIncludeCost');
  if (present(task.deliveryMethod)) c.oneOf(task.deliveryMethod, 'deliveryMethod', 'invalidDeliveryMethod', deliveryMethods);
  if (present(task.webhookURL)) c.httpUrl(task.webhookURL, 'webhookURL', 'invalidWebhookURL');
  if (present(task.ttl)) {
    const ttl = c.integer(task.ttl, 'ttl', 'invalidTtl', limits.ttl);
    if (ttl !== undefined && present(task.outputType) && task.outputType !== 'URL') {
      c.fail('invalidTtl', 'ttl', 'integer', `ttl applies only to outputType URL; got outputType ${describeValue(task.outputType)}`);
    }
  }
}

/**
 * seed: an integer from 1 to 2^63 - 1, a number or (above 2^53 - 1, as frames decode) a bigint, and
 * result k carries seed + k, so the last result's seed must not pass the top either. A number
 * beyond 2^53 - 1 is taken as the integer it holds.
 */
function checkSeed(c: TaskChecker, value: unknown, numberResults: unknown): void {
  const { min, max } = limits.seed;
  const rule = `seed must be an integer from ${min} to ${max}`;
  let seed: bigint | undefined;
  if (typeof value === 'bigint') seed = value;
  else if (typeof value === 'number' && Number.isInteger(value)) {
    // Safe seeds, nearly all of them, need no bigint: their last result is far below the top.
    if (value >= min && value <= Number.MAX_SAFE_INTEGER) return;
    seed = BigInt(value);
  }
  if (seed === undefined || seed < BigInt(min) || seed > max) {
    c.fail('invalidSeed', 'seed', 'integer', `${rule}; got ${describeValue(value)}`);
    return;
  }
  // An invalid numberResults is reported on its own; the sum is checked with the default then.
  const results = typeof numberResults === 'number' && Number.isInteger(numberResults) && numberResults >= limits.numberResults.min && numberResults <= limits.numberResults.max ? numberResults : limits.numberResults.default;
  if (seed + BigInt(results - 1) > max) {
    c.fail('invalidSeed', 'seed', 'integer', `${rule}, and seed + numberResults - 1 (the seed of the last result) at most ${max}; got seed ${seed} with numberResults ${results}`);
  }
}

function checkGeneration(c: TaskChecker, task: Record<string, unknown>): void {
  if (present(task.steps)) c.integer(task.steps, 'steps', 'invalidSteps', limits.steps);
  if (present(task.seed)) checkSeed(c, task.seed, task.numberResults);
  if (present(task.CFGScale)) c.float(task.CFGScale, 'CFGScale', 'invalidCFGScale', limits.CFGScale);
  if (present(task.clipSkip)) c.integer(task.clipSkip, 'clipSkip', 'invalidClipSkip', limits.clipSkip);
  if (present(task.numberResults)) c.integer(task.numberResults, 'numberResults', 'invalidNumberResults', limits.numberResults);
  if (present(task.scheduler)) c.string(task.scheduler, 'scheduler', 'invalidScheduler', { minLength: 1, maxLength: limits.scheduler.maxLength });
  if (present(task.vae)) c.air(task.vae, 'vae', 'invalidVae');
  if (present(task.promptWeighting)) c.oneOf(task.promptWeighting, 'promptWeighting', 'invalidPromptWeighting', promptWeightings);
  if (present(task.usePromptWeighting)) {
    c.boolean(task.usePromptWeighting, 'usePromptWeighting', 'invalidPromptWeighting');
    if (present(task.promptWeighting)) {
      c.fail('conflictingParameters', 'usePromptWeighting', 'boolean', 'usePromptWeighting is the older name of promptWeighting; give only one of them');
    }
  }
  if (c.required(task.model, 'model', 'string', 'missingModel')) c.air(task.model, 'model', 'invalidModel');
}

function checkImages(c: TaskChecker, task: Record<string, unknown>): void {
  const hasSeed = present(task.seedImage);
  if (hasSeed) c.imageRef(task.seedImage, 'seedImage', 'invalidSeedImage');
  if (present(task.maskImage)) {
    c.imageRef(task.maskImage, 'maskImage', 'invalidMaskImage');
    if (!hasSeed) c.fail('missingSeedImage', 'seedImage', 'string', 'seedImage is required for inpainting (maskImage was given)');
  }
  if (present(task.maskMargin)) {
    c.integer(task.maskMargin, 'maskMargin', 'invalidMaskMargin', limits.maskMargin);
    if (!present(task.maskImage)) c.fail('missingMaskImage', 'maskImage', 'string', 'maskMargin needs a maskImage to add context around');
  }
  if (present(task.strength)) c.float(task.strength, 'strength', 'invalidStrength', limits.strength);

  const outpaintName = present(task.outpaint) ? 'outpaint' : 'outpainting';
  if (present(task.outpaint) && present(task.outpainting)) {
    c.fail('conflictingParameters', 'outpainting', 'object', 'outpainting is another name of outpaint; give only one of them');
  }
  const outpaintValue = task[outpaintName];
  if (present(outpaintValue)) {
    const outpaint = c.object(outpaintValue, outpaintName, 'invalidOutpaint');
    if (outpaint !== undefined) {
      c.onlyKnown(outpaint, outpaintKeys, `${outpaintName}.`);
      let grows = false;
      let sidesValid = true;
      for (const side of ['top', 'right', 'bottom', 'left'] as const) {
        if (!present(outpaint[side])) continue;
        const value = c.integer(outpaint[side], `${outpaintName}.${side}`, 'invalidOutpaint', limits.outpaintSide);
        if (value === undefined) sidesValid = false;
        else if (value > 0) grows = true;
      }
      if (present(outpaint.blur)) c.integer(outpaint.blur, `${outpaintName}.blur`, 'invalidOutpaint', limits.outpaintBlur);
      if (!grows && sidesValid) {
        c.fail('invalidOutpaint', outpaintName, 'object', `${outpaintName} must extend at least one side (top, right, bottom or left above 0)`);
      }
    }
    if (!hasSeed) c.fail('missingSeedImage', 'seedImage', 'string', `seedImage is required for outpainting (${outpaintName} was given)`);
  }
}

function checkRefiner(c: TaskChecker, task: Record<string, unknown>, steps: number): void {
  if (!present(task.refiner)) return;
  const refiner = c.object(task.refiner, 'refiner', 'invalidRefiner');
  if (refiner === undefined) return;
  c.onlyKnown(refiner, refinerKeys, 'refiner.');
  if (!present(refiner.model)) c.fail('invalidRefiner', 'refiner.model', 'string', 'refiner.model is required');
  else c.air(refiner.model, 'refiner.model', 'invalidRefiner');
  if (present(refiner.startStep)) {
    c.integer(refiner.startStep, 'refiner.startStep', 'invalidRefiner', { min: limits.refinerStartStep.min, max: steps, maxLabel: 'steps' });
  }
  if (present(refiner.startStepPercentage)) {
    c.integer(refiner.startStepPercentage, 'refiner.startStepPercentage', 'invalidRefiner', limits.refinerStartStepPercentage);
    if (present(refiner.startStep)) {
      c.fail('conflictingParameters', 'refiner.startStepPercentage', 'integer', 'refiner.startStep and refiner.startStepPercentage are alternatives; give only one');
    }
  }
}

function eachEntry(
  c: TaskChecker,
  value: unknown,
  name: 'embeddings' | 'controlNet' | 'lora' | 'ipAdapters',
  code: 'invalidEmbeddings' | 'invalidControlNet' | 'invalidLora' | 'invalidIpAdapters',
  keys: ReadonlySet<string>,
  checkEntry: (entry: Record<string, unknown>, path: string) => void,
): void {
  if (!present(value)) return;
  const list = c.array(value, name, code, MAX_LIST_ENTRIES);
  if (list === undefined) return;
  list.forEach((raw, index) => {
    const path = `${name}[${index}]`;
    const entry = c.object(raw, path, code);
    if (entry === undefined) return;
    c.onlyKnown(entry, keys, `${path}.`);
    checkEntry(entry, path);
  });
}

function checkLists(c: TaskChecker, task: Record<string, unknown>, steps: number): void {
  const weighted = (name: 'embeddings' | 'lora', code: 'invalidEmbeddings' | 'invalidLora', rule: { min: number; max: number }) =>
    eachEntry(c, task[name], name, code, weightedModelKeys, (entry, path) => {
      if (!present(entry.model)) c.fail(code, `${path}.model`, 'string', `${path}.model is required`);
      else c.air(entry.model, `${path}.model`, code);
      if (present(entry.weight)) c.float(entry.weight, `${path}.weight`, code, rule);
    });
  weighted('embeddings', 'invalidEmbeddings', limits.embeddingWeight);
  weighted('lora', 'invalidLora', limits.loraWeight);

  eachEntry(c, task.controlNet, 'controlNet', 'invalidControlNet', controlNetKeys, (entry, path) => {
    const code = 'invalidControlNet';
    if (!present(entry.model)) c.fail(code, `${path}.model`, 'string', `${path}.model is required`);
    else c.string(entry.model, `${path}.model`, code, { minLength: 1, maxLength: limits.air.maxLength });
    if (!present(entry.guideImage)) c.fail(code, `${path}.guideImage`, 'string', `${path}.guideImage is required`);
    else c.imageRef(entry.guideImage, `${path}.guideImage`, code);
    if (present(entry.weight)) c.float(entry.weight, `${path}.weight`, code, limits.controlNetWeight);
    const start = present(entry.startStep)
      ? c.integer(entry.startStep, `${path}.startStep`, code, { min: limits.controlNetStartStep.min, max: steps, maxLabel: 'steps' })
      : undefined;
    const startPercentage = present(entry.startStepPercentage)
      ? c.integer(entry.startStepPercentage, `${path}.startStepPercentage`, code, limits.controlNetStartStepPercentage)
      : undefined;
    if (present(entry.startStep) && present(entry.startStepPercentage)) {
      c.fail('conflictingParameters', `${path}.startStepPercentage`, 'integer', `${path}.startStep and startStepPercentage are alternatives; give only one`);
    }
    if (present(entry.endStep)) {
      const min = start !== undefined ? start + 1 : 1;
      c.integer(entry.endStep, `${path}.endStep`, code, { min, max: steps, minLabel: start !== undefined ? 'startStep + 1' : undefined, maxLabel: 'steps' });
    }
    if (present(entry.endStepPercentage)) {
      const min = startPercentage !== undefined ? startPercentage + 1 : 1;
      c.integer(entry.endStepPercentage, `${path}.endStepPercentage`, code, {
        min,
        max: limits.controlNetEndStepPercentage.max,
        minLabel: startPercentage !== undefined ? 'startStepPercentage + 1' : undefined,
      });
    }
    if (present(entry.endStep) && present(entry.endStepPercentage)) {
      c.fail('conflictingParameters', `${path}.endStepPercentage`, 'integer', `${path}.endStep and endStepPercentage are alternatives; give only one`);
    }
    if (present(entry.controlMode)) c.oneOf(entry.controlMode, `${path}.controlMode`, code, controlModes);
  });

  eachEntry(c, task.ipAdapters, 'ipAdapters', 'invalidIpAdapters', ipAdapterKeys, (entry, path) => {
    const code = 'invalidIpAdapters';
    if (!present(entry.model)) c.fail(code, `${path}.model`, 'string', `${path}.model is required`);
    else c.oneOf(entry.model, `${path}.model`, code, ipAdapterModels);
    if (!present(entry.guideImage)) c.fail(code, `${path}.guideImage`, 'string', `${path}.guideImage is required`);
    else c.imageRef(entry.guideImage, `${path}.guideImage`, code);
    if (present(entry.weight)) c.float(entry.weight, `${path}.weight`, code, limits.ipAdapterWeight);
  });
}

function checkPreviews(c: TaskChecker, task: Record<string, unknown>): void {
  if (!present(task.previews) || typeof task.previews === 'boolean') return;
  if (typeof task.previews !== 'object' || Array.isArray(task.previews)) {
    c.fail('invalidPreviews', 'previews', 'object', `previews must be true, false or an object {maxSide, format, count}; got ${describeValue(task.previews)}`);
    return;
  }
  const previews = task.previews as Record<string, unknown>;
  c.onlyKnown(previews, previewKeys, 'previews.');
  if (present(previews.maxSide)) c.integer(previews.maxSide, 'previews.maxSide', 'invalidPreviews', limits.previewMaxSide);
  if (present(previews.format)) c.oneOf(previews.format, 'previews.format', 'invalidPreviews', previewFormats, true);
  if (present(previews.count)) c.integer(previews.count, 'previews.count', 'invalidPreviews', limits.previewCount);
}

/** Checks every parameter of an imageInference task (taskType and taskUUID are checked by the caller). */
export function checkImageInference(c: TaskChecker, task: Record<string, unknown>): void {
  c.onlyKnown(task, topLevelParameters);
  checkPrompts(c, task);
  checkDimensions(c, task);
  checkOutput(c, task);
  checkGeneration(c, task);
  checkImages(c, task);
  // Step windows are bounded by the task's own steps; an invalid steps was reported already.
  const steps =
    typeof task.steps === 'number' && Number.isInteger(task.steps) && task.steps >= limits.steps.min && task.steps <= limits.steps.max
      ? task.steps
      : limits.steps.default;
  checkRefiner(c, task, steps);
  checkLists(c, task, steps);
  checkPreviews(c, task);
}
