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
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  font-size: var(--jp-ui-font-size1, 13px);
  color: var(--kls-fg);
  background: var(--kls-bg);
  display: flex; flex-direction: column; gap: 12px;
  padding: 8px 0; max-width: 1100px;
}
.kls-root *, .kls-root *::before, .kls-root *::after { box-sizing: border-box; }
.kls-root [hidden] { display: none !important; }
.kls-root h3 { margin: 0; font-size: 1.1em; }
.kls-root h4 { margin: 0 0 6px; font-size: 1em; color: var(--kls-fg2); font-weight: 600; }
.kls-header { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.kls-backend { color: var(--kls-fg2); }
.kls-badge { padding: 2px 8px; border-radius: 10px; font-size: .9em; border: 1px solid var(--kls-warn); color: var(--kls-warn); }
.kls-banner { display: flex; gap: 8px; align-items: flex-start; padding: 8px 10px; border-radius: 4px;
  border: 1px solid var(--kls-bad); color: var(--kls-bad); background: var(--jp-error-color3, rgba(198,40,40,.08)); }
.kls-banner .kls-banner-text { flex: 1; white-space: pre-wrap; word-break: break-word; }
.kls-root button { font: inherit; color: var(--kls-fg); background: var(--kls-bg2); border: 1px solid var(--kls-border);
  border-radius: 4px; padding: 3px 10px; cursor: pointer; }
.kls-root button:hover:not(:disabled) { border-color: var(--kls-accent); }
.kls-root button:disabled { opacity: .55; cursor: not-allowed; }
.kls-root button.kls-primary { background: var(--kls-accent); color: #fff; border-color: var(--kls-accent); font-weight: 600; padding: 5px 16px; }
.kls-root input[type=text], .kls-root input[type=number], .kls-root input[type=search], .kls-root select, .kls-root textarea {
  font: inherit; color: var(--kls-fg); background: var(--kls-bg); border: 1px solid var(--kls-border); border-radius: 4px; padding: 3px 6px; }
.kls-root input:disabled, .kls-root textarea:disabled { opacity: .55; }
.kls-root textarea { width: 100%; resize: vertical; }
.kls-pictures { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.kls-slot { border: 1px solid var(--kls-border); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.kls-drop { border: 2px dashed var(--kls-border); border-radius: 6px; min-height: 120px; display: flex; align-items: center;
  justify-content: center; text-align: center; cursor: pointer; color: var(--kls-fg2); padding: 6px; background: var(--kls-bg2); }
.kls-drop.kls-over { border-color: var(--kls-accent); color: var(--kls-accent); }
.kls-drop img { max-width: 100%; max-height: 180px; display: block; }
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
.kls-reasons { list-style: none; margin: 0; padding: 0; color: var(--kls-bad); }
.kls-reasons li[data-kind="info"] { color: var(--kls-fg2); }
.kls-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
.kls-card { border: 1px solid var(--kls-border); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.kls-card[data-status="failed"] { border-color: var(--kls-bad); }
.kls-card[data-status="completed"] { border-color: var(--kls-ok); }
.kls-card[data-status="unknown"] { border-color: var(--kls-warn); }
.kls-card-head { display: flex; justify-content: space-between; gap: 8px; }
.kls-status { font-weight: 600; text-transform: capitalize; }
.kls-prompt { word-break: break-word; white-space: pre-wrap; max-height: 4.5em; overflow: hidden; }
.kls-progress { height: 6px; background: var(--kls-bg2); border-radius: 3px; overflow: hidden; }
.kls-progress > div { height: 100%; background: var(--kls-accent); transition: width .3s; }
.kls-times { color: var(--kls-fg2); font-variant-numeric: tabular-nums; }
.kls-video-box video { width: 100%; max-height: 360px; background: #000; border-radius: 4px; }
.kls-video-status:empty { display: none; }
.kls-history-tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
.kls-table-wrap { max-height: 420px; overflow: auto; border: 1px solid var(--kls-border); border-radius: 4px;
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
.kls-compare-cell video { width: 100%; max-height: 300px; background: #000; border-radius: 4px; display: block; }
.kls-compare-judge .kls-compare-note { flex: 1; min-width: 100px; }
.kls-detail { border: 1px solid var(--kls-border); border-radius: 6px; padding: 8px; margin-top: 8px; display: flex; flex-direction: column; gap: 6px; }
`;

/** One <style> per view, inside the view's own root, so it goes away with the view. */
export function styleElement(): HTMLStyleElement {
  const s = document.createElement("style");
  s.textContent = CSS;
  return s;
}
