// Turns a valid imageInference task into one with every default applied and every older
// name folded into its newer one, so servers and engines read one shape.
import { imageInferenceDefaults, limits, outputFormats } from './rules.js';
import type {
  ControlNet,
  DeliveryMethod,
  Embedding,
  ImageInferenceTask,
  IpAdapter,
  Lora,
  OutputFormat,
  OutputType,
  PromptWeighting,
  Refiner,
} from '../tasks.js';

export interface ResolvedOutpaint {
  top: number;
  right: number;
  bottom: number;
  left: number;
  blur: number;
}

export interface ResolvedPreviews {
  maxSide: number;
  format: 'JPG' | 'WEBP';
  /** At most this many previews per result (see previewSteps); absent: one per step. */
  count?: number;
}

/** An imageInference task with defaults applied. `seed` stays optional: the server picks one. */
export interface ResolvedImageInference {
  taskType: 'imageInference';
  taskUUID: string;
  positivePrompt: string;
  negativePrompt?: string;
  model: string;
  width: number;
  height: number;
  outputType: OutputType;
  outputFormat: OutputFormat;
  outputQuality: number;
  uploadEndpoint?: string;
  checkNSFW: boolean;
  includeCost: boolean;
  seedImage?: string;
  maskImage?: string;
  maskMargin?: number;
  strength: number;
  outpaint?: ResolvedOutpaint;
  vae?: string;
  steps: number;
  scheduler?: string;
  /** A bigint only when it is above 2^53 - 1 (as frames decode), or when set so by a caller. */
  seed?: number | bigint;
  CFGScale: number;
  clipSkip?: number;
  promptWeighting?: PromptWeighting;
  numberResults: number;
  refiner?: Refiner;
  embeddings: Embedding[];
  controlNet: ControlNet[];
  lora: Lora[];
  ipAdapters: IpAdapter[];
  deliveryMethod: DeliveryMethod;
  webhookURL?: string;
  ttl?: number;
  previews?: ResolvedPreviews;
}

function upperFormat(value: string | undefined): OutputFormat {
  const found = outputFormats.find((format) => format === value?.toUpperCase());
  return found ?? imageInferenceDefaults.outputFormat;
}

/** Applies defaults to a task that passed {@link validateTask}. */
export function normalizeImageInference(task: ImageInferenceTask): ResolvedImageInference {
  const legacy = task as ImageInferenceTask & { outpainting?: ImageInferenceTask['outpaint'] };
  const outpaint = task.outpaint ?? legacy.outpainting;
  const resolved: ResolvedImageInference = {
    taskType: 'imageInference',
    taskUUID: task.taskUUID,
    positivePrompt: task.positivePrompt,
    model: task.model,
    width: task.width,
    height: task.height,
    outputType: task.outputType ?? imageInferenceDefaults.outputType,
    outputFormat: upperFormat(task.outputFormat),
    outputQuality: task.outputQuality ?? imageInferenceDefaults.outputQuality,
    checkNSFW: task.checkNSFW ?? imageInferenceDefaults.checkNSFW,
    includeCost: task.includeCost ?? imageInferenceDefaults.includeCost,
    strength: task.strength ?? imageInferenceDefaults.strength,
    steps: task.steps ?? imageInferenceDefaults.steps,
    CFGScale: task.CFGScale ?? imageInferenceDefaults.CFGScale,
    numberResults: task.numberResults ?? imageInferenceDefaults.numberResults,
    embeddings: task.embeddings ?? [],
    controlNet: task.controlNet ?? [],
    lora: task.lora ?? [],
    ipAdapters: task.ipAdapters ?? [],
    deliveryMethod: task.deliveryMethod ?? imageInferenceDefaults.deliveryMethod,
  };
  if (task.negativePrompt != null) resolved.negativePrompt = task.negativePrompt;
  if (task.uploadEndpoint != null) resolved.uploadEndpoint = task.uploadEndpoint;
  if (task.seedImage != null) resolved.seedImage = task.seedImage;
  if (task.maskImage != null) resolved.maskImage = task.maskImage;
  if (task.maskMargin != null) resolved.maskMargin = task.maskMargin;
  if (task.vae != null) resolved.vae = task.vae;
  if (task.scheduler != null) resolved.scheduler = task.scheduler;
  if (task.seed != null) resolved.seed = task.seed;
  if (task.clipSkip != null) resolved.clipSkip = task.clipSkip;
  if (task.refiner != null) resolved.refiner = task.refiner;
  if (task.webhookURL != null) resolved.webhookURL = task.webhookURL;
  if (task.ttl != null) resolved.ttl = task.ttl;
  const weighting = task.promptWeighting ?? (task.usePromptWeighting === true ? 'compel' : undefined);
  if (weighting !== undefined) resolved.promptWeighting = weighting;
  if (outpaint != null) {
    resolved.outpaint = {
      top: outpaint.top ?? 0,
      right: outpaint.right ?? 0,
      bottom: outpaint.bottom ?? 0,
      left: outpaint.left ?? 0,
      blur: outpaint.blur ?? limits.outpaintBlur.default,
    };
  }
  if (task.previews === true) {
    resolved.previews = { maxSide: limits.previewMaxSide.default, format: 'JPG' };
  } else if (typeof task.previews === 'object' && task.previews !== null) {
    resolved.previews = {
      maxSide: task.previews.maxSide ?? limits.previewMaxSide.default,
      format: task.previews.format?.toUpperCase() === 'WEBP' ? 'WEBP' : 'JPG',
    };
    if (task.previews.count !== undefined) resolved.previews.count = task.previews.count;
  }
  return resolved;
}
