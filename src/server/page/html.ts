// The live page's HTML and inline CSS. The CSS's hash goes into the Content-Security-Policy, so no
// other inline style or script can run; the behaviour lives in the bundled page script.
import { createHash } from 'node:crypto';

const css = `
:root { color-scheme: dark; --bg: #0f1115; --panel: #171a21; --line: #2a2f3a; --text: #e6e8ee; --muted: #8b93a7; --accent: #7c9cff; --ok: #3ecf8e; --warn: #f5a524; --bad: #f2555a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
main { max-width: 980px; margin: 0 auto; padding: 28px 20px; display: grid; grid-template-columns: 340px 1fr; gap: 24px; }
h1 { grid-column: 1 / -1; margin: 0; font-size: 20px; font-weight: 650; letter-spacing: .2px; }
h1 span { color: var(--muted); font-weight: 400; }
form { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 16px; display: grid; gap: 14px; align-content: start; align-self: start; }
label { display: grid; gap: 6px; font-size: 13px; color: var(--muted); }
textarea, select, input { font: inherit; color: var(--text); background: #0c0e12; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
textarea { min-height: 96px; resize: vertical; }
textarea:focus, select:focus, input:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
output { color: var(--text); }
figure { margin: 0; display: grid; gap: 10px; }
canvas { width: 100%; max-width: 512px; aspect-ratio: 1; background: repeating-conic-gradient(#151821 0 25%, #1b1f29 0 50%) 0 0 / 24px 24px; border: 1px solid var(--line); border-radius: 12px; image-rendering: auto; }
figcaption { font-size: 13px; color: var(--muted); display: flex; gap: 14px; flex-wrap: wrap; align-items: center; max-width: 512px; }
#status { display: inline-flex; align-items: center; gap: 8px; font-size: 13px; color: var(--muted); }
#status::before { content: ""; width: 9px; height: 9px; border-radius: 50%; background: var(--muted); }
body[data-status="connected"] #status::before, body[data-status="resumed"] #status::before { background: var(--ok); }
body[data-status="reconnecting"] #status::before, body[data-status="connecting"] #status::before { background: var(--warn); }
body[data-status="closed"] #status::before, body[data-status="error"] #status::before { background: var(--bad); }
body[data-phase="preview"] canvas { border-color: var(--accent); }
#hint { font-size: 12px; color: var(--warn); margin-top: -8px; }
#hint:empty { display: none; }
#save { font: inherit; font-size: 13px; color: var(--text); background: #0c0e12; border: 1px solid var(--line); border-radius: 8px; padding: 4px 12px; cursor: pointer; margin-left: auto; }
#save:disabled { color: var(--muted); cursor: default; }
#save:focus-visible { outline: 2px solid var(--accent); outline-offset: -1px; }
@media (max-width: 760px) { main { grid-template-columns: 1fr; } }
`;

/** The `style-src` source of the inline CSS. */
export const pageStyleSource = `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The page; `tokenUrl` is where its script asks for session tokens (empty: none available). */
export function pageHtml(tokenUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imagewire live</title>
<style>${css}</style>
<script type="module" src="/page/page.js"></script>
</head>
<body data-token-url="${escapeAttribute(tokenUrl)}" data-status="idle" data-seq="0" data-phase="idle" data-step="0">
<main>
<h1>imagewire <span>live</span></h1>
<form id="controls" autocomplete="off">
<label>Prompt<textarea id="prompt" name="prompt" placeholder="a lighthouse on a cliff at dusk" spellcheck="false" aria-describedby="hint"></textarea></label>
<span id="hint" aria-live="polite"></span>
<div class="row">
<label>Size<select id="size" name="size"><option value="256">256 × 256</option><option value="384">384 × 384</option><option value="512" selected>512 × 512</option></select></label>
<label>Seed<input id="seed" name="seed" type="number" min="1" step="1" value="7"></label>
</div>
<label>Steps <output id="steps-value">12</output><input id="steps" name="steps" type="range" min="2" max="40" value="12"></label>
<span id="status" role="status">starting</span>
</form>
<figure>
<canvas id="picture" width="512" height="512" aria-label="generated image"></canvas>
<figcaption><span id="progress">type a prompt</span><span id="latency"></span><button id="save" type="button" disabled title="Save the picture on the canvas as a PNG file">Save PNG</button></figcaption>
</figure>
</main>
</body>
</html>
`;
}
