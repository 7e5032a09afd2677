// The widget's CSS, scoped under .kls-root and built on JupyterLab's theme variables (with
// fallbacks for classic Notebook / VS Code), so light and dark themes both read well.

export const CSS = `
.kls-root {
  --kls-fg: var(--jp-ui-font-color1, #1f2328);
  --kls-fg2: var(--jp-ui-font-color2, #59636e);
  --kls-bg: var(--jp-layout-color1, #ffffff);
  --kls-bg2: var(--jp-layout-color2, #f3f4f6);
  --kls-border: var(--jp-border-color1, #c9ced6);
  --kls-accent: var(--jp-brand-color1, #1976d2);
  --kls-ok: var(--jp-success-color1, #2e7d32);
  --kls-bad: var(--jp-error-color1, #c62828);
  --kls-warn: var(--jp-warn-color1, #b26a00);
  --kls-on-accent: var(--jp-ui-inverse-font-color1, #ffffff);
  --kls-bg3: var(--jp-layout-color3, #dde1e6);
  --kls-radius: 8px;
  --kls-work-h: 520px;
  --kls-gallery-h: 268px;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px);
  color: var(--kls-fg);
  background: var(--kls-bg);
  display: flex; flex-direction: column; gap: 10px;
  padding: 6px 2px; max-width: 1440px; line-height: 1.35;
}
.kls-root :focus-visible { outline: 2px solid var(--kls-accent); outline-offset: 2px; }
.kls-root input[type=checkbox] { accent-color: var(--kls-accent); }
.kls-root *, .kls-root *::before, .kls-root *::after { box-sizing: border-box; }
.kls-root [hidden] { display: none !important; }
.kls-root h3 { margin: 0; font-size: 1.1em; }
.kls-root h4 { margin: 0 0 6px; font-size: 1em; color: var(--kls-fg2); font-weight: 600; }
.kls-header { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.kls-backend { color: var(--kls-fg2); }
.kls-badge { padding: 1px 8px; border-radius: 10px; font-size: .9em; border: 1px solid var(--kls-warn); color: var(--kls-fg); }
.kls-header .kls-spacer { flex: 1; }
.kls-banner { display: flex; gap: 8px; align-items: flex-start; padding: 8px 10px; border-radius: 4px;
  border: 1px solid var(--kls-bad); color: var(--kls-bad); background: var(--jp-error-color3, rgba(198,40,40,.08)); }
.kls-banner .kls-banner-text { flex: 1; white-space: pre-wrap; word-break: break-word; }
.kls-root button { font: inherit; color: var(--kls-fg); background: var(--kls-bg2); border: 1px solid var(--kls-border);
  border-radius: 4px; padding: 3px 10px; cursor: pointer; }
.kls-root button:hover:not(:disabled) { border-color: var(--kls-accent); }
.kls-root button:disabled { opacity: .55; cursor: not-allowed; }
.kls-root button.kls-primary { background: var(--kls-accent); color: var(--kls-on-accent); border-color: var(--kls-accent); font-weight: 600; padding: 5px 16px; }
.kls-root input[type=text], .kls-root input[type=number], .kls-root input[type=search], .kls-root select, .kls-root textarea {
  font: inherit; color: var(--kls-fg); background: var(--kls-bg); border: 1px solid var(--kls-border); border-radius: 4px; padding: 3px 6px; }
.kls-root input:disabled, .kls-root textarea:disabled { opacity: .55; }
.kls-root textarea { width: 100%; resize: vertical; }
.kls-pictures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.kls-slot { border: 1px solid var(--kls-border); border-radius: 6px; padding: 6px; display: flex; flex-direction: column; gap: 5px; min-width: 0; }
.kls-slot h4 { margin: 0; font-size: .95em; }
.kls-slot .kls-row > input[type=text] { min-width: 60px; }
.kls-slot .kls-checks { font-size: .92em; }
.kls-drop { border: 2px dashed var(--kls-border); border-radius: 6px; min-height: 92px; display: flex; align-items: center;
  justify-content: center; text-align: center; cursor: pointer; color: var(--kls-fg2); padding: 6px; background: var(--kls-bg2); }
.kls-drop.kls-over { border-color: var(--kls-accent); color: var(--kls-accent); }
.kls-drop img { max-width: 100%; max-height: 120px; display: block; border-radius: 3px; }
.kls-file { position: absolute; width: 1px; height: 1px; opacity: 0; overflow: hidden; }
.kls-row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.kls-row > input[type=text] { flex: 1; min-width: 120px; }
.kls-facts { color: var(--kls-fg2); }
.kls-checks { list-style: none; margin: 0; padding: 0; }
.kls-checks li::before { content: "✓ "; color: var(--kls-ok); font-weight: 700; }
.kls-checks li[data-ok="false"] { color: var(--kls-bad); }
.kls-checks li[data-ok="false"]::before { content: "✗ "; color: var(--kls-bad); }
.kls-note { color: var(--kls-fg2); }
.kls-bad-text { color: var(--kls-bad); }
.kls-field { display: flex; flex-direction: column; gap: 3px; }
.kls-field-head { display: flex; justify-content: space-between; gap: 8px; }
.kls-counter { color: var(--kls-fg2); font-variant-numeric: tabular-nums; }
.kls-counter.kls-over { color: var(--kls-bad); font-weight: 600; }
.kls-settings { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; }
.kls-settings label { display: inline-flex; gap: 6px; align-items: center; }
.kls-segments { display: flex; flex-direction: column; gap: 6px; }
.kls-segment { display: grid; grid-template-columns: auto 1fr auto auto; gap: 6px; align-items: start; }
.kls-segment input[type=number] { width: 5em; }
.kls-generate { display: flex; gap: 12px; align-items: flex-start; }
.kls-root button.kls-generate-button { min-width: 120px; padding: 7px 18px; font-size: 1.05em; }
.kls-reasons { list-style: none; margin: 0; padding: 0; color: var(--kls-bad); }
.kls-reasons li[data-kind="info"] { color: var(--kls-fg2); }
.kls-generate-side { display: flex; flex-direction: column; gap: 2px; }
.kls-estimate { color: var(--kls-fg2); font-size: 0.92em; }
.kls-spending { color: var(--kls-fg2); }
.kls-spending[data-over="true"] { color: var(--kls-bad); }
.kls-card-head { display: flex; justify-content: space-between; gap: 8px; }
.kls-status { font-weight: 600; text-transform: capitalize; }
.kls-prompt { word-break: break-word; white-space: pre-wrap; max-height: 4.5em; overflow: hidden; }
.kls-progress { height: 6px; background: var(--kls-bg2); border-radius: 3px; overflow: hidden; }
.kls-progress > div { height: 100%; background: var(--kls-accent); transition: width .3s; }
.kls-times { color: var(--kls-fg2); font-variant-numeric: tabular-nums; }
.kls-video-box video { width: 100%; max-height: 360px; background: #000; border-radius: 4px; }
.kls-video-status:empty { display: none; }
.kls-history-tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
.kls-table-wrap { max-height: var(--kls-gallery-h); overflow: auto; border: 1px solid var(--kls-border); border-radius: 4px;
  overflow-anchor: none; contain: content; }
.kls-table { border-collapse: collapse; width: 100%; }
.kls-table th, .kls-table td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--kls-border); vertical-align: top; }
.kls-table th { position: sticky; top: 0; z-index: 1; background: var(--kls-bg2); }
/* The history table is windowed (views/history.ts): fixed column widths and one fixed-height
   line per row, so its layout never depends on the rows that are not built. */
.kls-history-table { table-layout: fixed; min-width: 760px; }
.kls-history-table .kls-col-status { width: 92px; }
.kls-history-table .kls-col-settings { width: 150px; }
.kls-history-table .kls-col-created { width: 160px; }
.kls-history-table .kls-col-elapsed { width: 84px; }
.kls-history-table .kls-col-error { width: 22%; }
.kls-history-table th, .kls-history-table td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.kls-history-table td { height: 26px; line-height: 19px; }
.kls-history-table tbody tr { cursor: pointer; }
.kls-history-table tbody tr:hover { background: var(--kls-bg2); }
.kls-history-table tbody tr[aria-selected="true"] { outline: 2px solid var(--kls-accent); outline-offset: -2px; }
.kls-history-table tbody tr.kls-spacer { cursor: default; background: none; }
.kls-history-table tbody tr.kls-spacer > td { padding: 0; border: 0; }
.kls-compare { display: flex; flex-direction: column; gap: 8px; }
.kls-root button.kls-compare-toggle { align-self: flex-start; font-weight: 600; background: none; border: none; padding: 2px 0; }
.kls-compare-body, .kls-compare-builder, .kls-compare-board { display: flex; flex-direction: column; gap: 8px; }
.kls-compare-axis { display: inline-flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.kls-compare-boxes { display: inline-flex; gap: 10px; flex-wrap: wrap; }
.kls-compare-plan-variants { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
.kls-compare-plan-variants li { display: flex; gap: 8px; align-items: baseline; }
.kls-compare-params { margin: 0; display: flex; flex-wrap: wrap; gap: 2px 12px; min-width: 0; }
.kls-compare-param { display: flex; gap: 4px; min-width: 0; max-width: 100%; }
.kls-compare-param dt { color: var(--kls-fg2); flex: none; float: none; width: auto; margin: 0; font-weight: normal; white-space: nowrap; }
.kls-compare-param dt::after { content: ":"; }
.kls-compare-param dd { margin: 0; word-break: break-word; white-space: pre-wrap; max-height: 4.5em; overflow: hidden; }
.kls-compare-confirm { display: inline-flex; gap: 8px; align-items: center; flex-wrap: wrap; padding: 4px 8px; border-radius: 4px;
  border: 1px solid var(--kls-warn); }
.kls-compare-controls { position: sticky; top: 0; z-index: 1; background: var(--kls-bg); padding: 4px 0; }
.kls-compare-controls input[type=range] { flex: 1; min-width: 160px; }
.kls-compare-grid { display: grid; grid-template-columns: repeat(var(--kls-compare-cols, auto-fill), minmax(200px, 1fr)); gap: 10px; }
.kls-compare-cell { border: 1px solid var(--kls-border); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; min-width: 0; overflow-wrap: anywhere; }
.kls-compare-cell[data-status="failed"] { border-color: var(--kls-bad); }
.kls-compare-cell .kls-compare-label { font-size: 1.1em; }
.kls-summary { margin-top: 10px; display: flex; flex-direction: column; gap: 6px; }
.kls-summary table { border-collapse: collapse; font-size: 0.9em; }
.kls-summary th, .kls-summary td { padding: 2px 6px; border-bottom: 1px solid var(--kls-border); text-align: left; }
.kls-summary-table th { cursor: pointer; }
.kls-summary-axes { display: flex; flex-wrap: wrap; gap: 12px; }
.kls-summary-axis { display: flex; flex-direction: column; gap: 4px; min-width: 0; overflow-x: auto; }
.kls-bar { fill: var(--kls-border); }
.kls-bar-best { fill: var(--kls-accent); }
.kls-compare-cell video { width: 100%; max-height: 300px; background: #000; border-radius: 4px; display: block; }
.kls-compare-judge .kls-compare-note { flex: 1; min-width: 100px; }
.kls-detail { border: 1px solid var(--kls-border); border-radius: 6px; padding: 8px; margin-top: 8px; display: flex; flex-direction: column; gap: 6px; }

/* --- the studio's layout: inputs beside a large player, results underneath (studio.ts) --- */
.kls-tabs { display: inline-flex; border: 1px solid var(--kls-border); border-radius: 6px; overflow: hidden; }
.kls-root .kls-tabs button { border: 0; border-radius: 0; background: var(--kls-bg); padding: 4px 14px; }
.kls-root .kls-tabs button + button { border-left: 1px solid var(--kls-border); }
.kls-root .kls-tabs button[aria-selected="true"] { background: var(--kls-accent); color: var(--kls-on-accent); font-weight: 600; }
.kls-create { display: flex; flex-direction: column; gap: 10px; min-width: 0; }
.kls-workspace { display: grid; grid-template-columns: minmax(300px, 390px) minmax(0, 1fr); gap: 14px; height: var(--kls-work-h); min-height: 0; }
.kls-inputs { display: flex; flex-direction: column; gap: 10px; overflow: auto; min-height: 0; padding: 2px 6px 0 2px; overscroll-behavior: contain; }
.kls-inputs > * { flex-shrink: 0; }
.kls-facts { overflow-wrap: anywhere; }
.kls-form { display: flex; flex-direction: column; gap: 8px; }
.kls-inputs .kls-generate { position: sticky; bottom: 0; z-index: 2; background: var(--kls-bg); padding: 8px 0 6px; margin-top: auto;
  border-top: 1px solid var(--kls-border); }
.kls-stage { display: flex; flex-direction: column; gap: 8px; min-height: 0; min-width: 0; }
.kls-screen { position: relative; flex: 1; min-height: 0; background: #0b0d10; border-radius: var(--kls-radius); overflow: hidden;
  display: flex; align-items: center; justify-content: center; }
.kls-screen .kls-video-box { width: 100%; height: 100%; display: flex; flex-direction: column; align-items: center; justify-content: center; }
.kls-screen .kls-video-box video { width: 100%; height: 100%; max-height: none; object-fit: contain; border-radius: 0; }
.kls-screen .kls-video-status { color: #d0d4da; padding: 12px; text-align: center; }
.kls-screen > .kls-poster-img, .kls-screen > .kls-poster-none { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
.kls-screen-label { position: relative; color: #f2f4f7; background: rgba(0,0,0,.62); padding: 6px 14px; border-radius: 16px; font-weight: 600; }
.kls-screen-empty { display: flex; flex-direction: column; gap: 6px; align-items: center; text-align: center; color: #d0d4da; padding: 24px; max-width: 420px; }
.kls-screen-empty strong { color: #f2f4f7; font-size: 1.2em; }
.kls-stage-info { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.kls-stage-prompt { font-size: 1.05em; font-weight: 600; max-height: 2.8em; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; white-space: normal; }
.kls-stage-prompt:empty, .kls-stage-info > div:empty { display: none; }
.kls-stage-actions { gap: 6px; }
.kls-library { display: flex; flex-direction: column; gap: 6px; min-width: 0; }
.kls-library-bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.kls-library-bar h4 { margin: 0 4px 0 0; color: var(--kls-fg); }
.kls-library-bar .kls-history-tools { margin: 0; }
.kls-library-bar .kls-history-tools input[type=search] { width: 150px; }
.kls-segmented { display: inline-flex; }
.kls-root .kls-segmented button { border-radius: 0; }
.kls-root .kls-segmented button:first-child { border-radius: 4px 0 0 4px; }
.kls-root .kls-segmented button:last-child { border-radius: 0 4px 4px 0; border-left: 0; }
.kls-root .kls-segmented button[aria-pressed="true"] { background: var(--kls-accent); color: var(--kls-on-accent); border-color: var(--kls-accent); }
.kls-gallery-bar { display: inline-flex; gap: 8px; align-items: center; margin-left: auto; flex-wrap: wrap; }
.kls-gallery-scroll { max-height: var(--kls-gallery-h); overflow: auto; overscroll-behavior: contain; padding: 2px; }
.kls-gallery { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(176px, 1fr)); gap: 10px; }
.kls-gallery-empty { padding: 24px; text-align: center; border: 1px dashed var(--kls-border); border-radius: var(--kls-radius); }
.kls-root button.kls-more { display: block; margin: 8px auto 2px; }
.kls-tile { position: relative; display: flex; flex-direction: column; border: 1px solid var(--kls-border); border-radius: var(--kls-radius);
  background: var(--kls-bg); overflow: hidden; cursor: pointer; min-width: 0; }
.kls-tile:hover { border-color: var(--kls-accent); }
.kls-tile.kls-current { border-color: var(--kls-accent); box-shadow: 0 0 0 2px var(--kls-accent); }
.kls-tile.kls-picked { box-shadow: 0 0 0 3px var(--kls-ok); border-color: var(--kls-ok); }
.kls-root button.kls-tile-open { position: relative; display: block; width: 100%; padding: 0; border: 0; border-radius: 0; background: #0b0d10; aspect-ratio: 16 / 9; overflow: hidden; }
.kls-root button.kls-tile-open:focus-visible { outline: 3px solid var(--kls-accent); outline-offset: -3px; }
.kls-poster { position: absolute; inset: 0; display: block; }
.kls-poster-img { width: 100%; height: 100%; object-fit: cover; display: block; }
.kls-poster-none { display: block; width: 100%; height: 100%; background:
  radial-gradient(circle at 50% 50%, rgba(255,255,255,.16) 0 18px, transparent 19px),
  linear-gradient(135deg, #2a3140, #151a22); }
.kls-poster-none::after { content: ""; position: absolute; left: 50%; top: 50%; transform: translate(-35%, -50%);
  border-style: solid; border-width: 8px 0 8px 13px; border-color: transparent transparent transparent rgba(255,255,255,.8); }
.kls-poster-none[data-status="failed"] { background: linear-gradient(135deg, #4a2427, #1d1214); }
.kls-poster-none[data-status="failed"]::after { content: "!"; border: 0; color: #ffb4b4; font-weight: 700; font-size: 22px; transform: translate(-50%, -50%); }
.kls-poster[data-status="processing"] .kls-poster-none, .kls-poster[data-status="pending"] .kls-poster-none,
.kls-poster[data-status="submitting"] .kls-poster-none { animation: kls-pulse 1.6s ease-in-out infinite; }
@keyframes kls-pulse { 50% { opacity: .6; } }
@media (prefers-reduced-motion: reduce) { .kls-root * { animation: none !important; transition: none !important; } }
.kls-chip { position: absolute; right: 6px; bottom: 6px; background: rgba(0,0,0,.7); color: #fff; font-size: .85em; padding: 0 6px; border-radius: 8px; }
.kls-chip:empty { display: none; }
.kls-tile-check { position: absolute; top: 6px; left: 6px; width: 18px; height: 18px; margin: 0; display: none; }
.kls-selecting .kls-tile-check { display: block; }
.kls-tile-body { display: flex; flex-direction: column; gap: 3px; padding: 6px 8px 8px; min-width: 0; }
.kls-tile .kls-card-head { display: flex; justify-content: space-between; gap: 6px; align-items: baseline; min-width: 0; }
.kls-tile .kls-ids { color: var(--kls-fg2); font-size: .85em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.kls-tile[data-status="failed"] .kls-status { color: var(--kls-bad); }
.kls-tile-prompt { white-space: normal; max-height: 2.7em; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.kls-tile-meta { color: var(--kls-fg2); font-size: .9em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.kls-user { color: var(--kls-fg); font-weight: 600; }
.kls-tile .kls-times { font-size: .9em; }
.kls-tile-note { font-size: .9em; max-height: 4em; overflow: hidden; overflow-wrap: anywhere; }
.kls-tile-note:empty { display: none; }
.kls-compare-toggle { display: none !important; }
/* Narrow (a side panel, ~600 px): one column; the inputs no longer scroll on their own. */
.kls-root[data-layout="narrow"] .kls-workspace { grid-template-columns: minmax(0, 1fr); height: auto; }
.kls-root[data-layout="narrow"] .kls-inputs { overflow: visible; padding: 0; }
.kls-root[data-layout="narrow"] .kls-inputs .kls-generate { position: static; }
.kls-root[data-layout="narrow"] .kls-screen { flex: none; aspect-ratio: 16 / 9; }
.kls-root[data-layout="narrow"] .kls-gallery { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); }
.kls-root[data-layout="narrow"] .kls-gallery-bar { margin-left: 0; }
.kls-root[data-layout="narrow"] .kls-library-bar .kls-history-tools input[type=search] { width: 120px; }
`;

/** One <style> per view, inside the view's own root, so it goes away with the view. */
export function styleElement(): HTMLStyleElement {
  const s = document.createElement("style");
  s.textContent = CSS;
  return s;
}
