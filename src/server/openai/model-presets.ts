// The model ids of the OpenAI-style images API and what each runs on the engine: a look (one of the
// procedural engine's styles, reached through a catalogue model id), default steps and guidance.
import type { ProceduralStyle } from '../../engine/procedural/models.js';

/** A look a preset (or the `style` parameter) picks. */
export type PresetLook = ProceduralStyle;

/** One model id of the images API and its engine settings. */
export interface ModelPreset {
  /** The id clients send as `model`. */
  readonly id: string;
  /** What the model is for (shown in docs, not in the API). */
  readonly description: string;
  /** The look it renders with. */
  readonly look: PresetLook;
  /** Default `steps`. */
  readonly steps: number;
  /** Default `guidance_scale` (the engine's CFGScale: higher is more saturated and contrasted). */
  readonly guidance: number;
}

/** The catalogue model id of each look: the procedural engine picks its style by model id. */
export const lookModels: Readonly<Record<PresetLook, string>> = {
  balanced: 'imagewire:1@1',
  photographic: 'runware:101@1',
  painterly: 'civitai:102438@133677',
  poster: 'imagewire:2@1',
  neon: 'imagewire:3@1',
};

/** The looks, in the order docs list them; also the values `style` accepts. */
export const presetLooks: readonly PresetLook[] = ['balanced', 'photographic', 'painterly', 'poster', 'neon'];

/**
 * The sixteen model ids, in the order the API lists them. Steps and guidance follow what the real
 * models are known for: few-step turbo and real-time variants run 2 to 4 steps at low guidance
 * (washed-out colour), detail-oriented ones run more steps (finer noise octaves), anime and flat
 * models use the posterized look with strong guidance.
 */
export const modelPresets: readonly ModelPreset[] = [
  { id: 'absolute_reality', description: 'fantasy-realistic, atmospheric lighting', look: 'photographic', steps: 30, guidance: 8 },
  { id: 'anylora', description: 'versatile mixed-media art', look: 'painterly', steps: 28, guidance: 7 },
  { id: 'anylora_anime_mix', description: 'anime mixed with other art styles', look: 'poster', steps: 24, guidance: 7 },
  { id: 'dreamshaperv7', description: 'general composition and scenes (the default)', look: 'balanced', steps: 25, guidance: 7 },
  { id: 'dreamshaperv8', description: 'newer DreamShaper: complex scenes', look: 'balanced', steps: 30, guidance: 6 },
  { id: 'neverending-dream', description: 'dreamlike, surreal', look: 'neon', steps: 30, guidance: 8 },
  { id: 'realistic_vision_6', description: 'photorealistic portraits, products, landscapes', look: 'photographic', steps: 25, guidance: 5 },
  { id: 'segmind_vega_pix_detailed', description: 'fine detail and intricate textures', look: 'painterly', steps: 40, guidance: 9 },
  { id: 'segmind_vega_pix_flat', description: 'flat graphic, icons, minimalist', look: 'poster', steps: 16, guidance: 12 },
  { id: 'segmind_vega_fp16', description: 'performance-optimized, fewer steps', look: 'balanced', steps: 12, guidance: 8 },
  { id: 'segmind_vega_rt', description: 'real-time, few steps', look: 'balanced', steps: 4, guidance: 2 },
  { id: 'sd_1.5', description: 'general purpose', look: 'balanced', steps: 20, guidance: 11 },
  { id: 'sd_2.1', description: 'better composition and complex prompts', look: 'photographic', steps: 25, guidance: 11 },
  { id: 'sd_turbo_or', description: 'turbo: speed over quality', look: 'balanced', steps: 2, guidance: 1 },
  { id: 'waifu_diffusion', description: 'anime and manga, cel-shaded', look: 'poster', steps: 28, guidance: 9 },
  { id: '3D_animation', description: '3D character renders, CGI', look: 'neon', steps: 28, guidance: 12 },
];

/** The largest seed offset: seeds up to 2^53 - 1 - this stay exact after the offset is added. */
export const MAX_SEED_OFFSET = 2 ** 20;

/**
 * A fixed offset per model id, added to the request's seed: different networks give different
 * pictures for one seed, and with it presets that share a look still differ in composition, not
 * only in detail and colour. FNV-1a of the id, so it never changes between runs.
 */
export function seedOffset(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash % MAX_SEED_OFFSET;
}

/** The model used when a request names none. */
export const defaultModelId = 'dreamshaperv7';

/**
 * The preset of `POST /v1/images/imagine`: a few-step model in the manner of SDXL-Lightning, which
 * the endpoint's documentation names. Not listed by `GET /v1/models` (the endpoint takes no model).
 */
export const imaginePreset: ModelPreset = {
  id: 'sdxl_lightning',
  description: 'few-step, 1024x1024',
  look: 'photographic',
  steps: 4,
  guidance: 1.5,
};

/**
 * `created` of every listed model, fixed so the list is the same on every run (Unix seconds,
 * 2024-01-01T00:00:00Z).
 */
export const presetsCreated = 1_704_067_200;

const byId = new Map(modelPresets.map((preset) => [preset.id, preset]));

/** The preset of a model id, or undefined for an id this API does not list. */
export function findPreset(id: string): ModelPreset | undefined {
  return byId.get(id);
}

/** One entry of `GET /v1/models`. */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** The model object of a preset, keys in OpenAI's order. */
export function modelObject(preset: ModelPreset): ModelObject {
  return { id: preset.id, object: 'model', created: presetsCreated, owned_by: 'imagewire' };
}
