// @ts-check
/**
 * The panel's CSS, injected once per document. Inside jellyfin-web the panel also carries
 * jellyfin-web's own classes (emby-button, raised, button-submit, emby-input,
 * paper-icon-button-light) so the active theme styles it; these rules only lay it out and give
 * the demo page the same look. Colours come from custom properties so a theme can override them.
 *
 * Public API: injectStyles(document)
 *
 * @module ui/styles
 */

const CSS = `
.matinee-panel {
  --matinee-bg: rgba(16, 16, 16, 0.94);
  --matinee-fg: #eee;
  --matinee-muted: #aaa;
  --matinee-accent: #00a4dc;
  --matinee-ok: #4caf50;
  --matinee-warn: #ffb300;
  --matinee-bad: #e53935;
  position: fixed; right: 12px; bottom: 12px; z-index: 1100;
  width: min(24em, calc(100vw - 24px)); max-height: calc(100vh - 24px); overflow: auto;
  background: var(--matinee-bg); color: var(--matinee-fg);
  border-radius: 0.4em; box-shadow: 0 0.3em 1.5em rgba(0, 0, 0, 0.6);
  padding: 0.8em 1em; font-size: 0.95em; box-sizing: border-box;
}
.matinee-panel[data-theme="light"] {
  --matinee-bg: rgba(248, 248, 248, 0.96);
  --matinee-fg: #202020;
  --matinee-muted: #5f5f5f;
  --matinee-accent: #0080b0;
  --matinee-ok: #2e7d32;
  --matinee-warn: #a66a00;
  box-shadow: 0 0.3em 1.5em rgba(0, 0, 0, 0.3);
}
.matinee-panel[hidden], .matinee-panel [hidden] { display: none !important; }
.matinee-header { display: flex; align-items: center; gap: 0.6em; }
.matinee-title { font-size: 1.2em; margin: 0; flex: 1; font-weight: 500; }
.matinee-sync { font-size: 0.85em; padding: 0.15em 0.6em; border-radius: 1em; background: color-mix(in srgb, currentColor 18%, transparent); white-space: nowrap; }
.matinee-sync::before { content: "●"; margin-right: 0.35em; }
.matinee-sync[data-status="in_sync"] { background: rgba(76, 175, 80, 0.25); color: #a5d6a7; }
.matinee-sync[data-status="syncing"] { background: rgba(255, 179, 0, 0.2); color: #ffe082; }
.matinee-sync[data-status="waiting"] { background: rgba(229, 57, 53, 0.2); color: #ef9a9a; }
.matinee-sync[data-status="blocked"] { background: rgba(229, 57, 53, 0.2); color: #ef9a9a; white-space: normal; }
.matinee-panel[data-theme="light"] .matinee-sync[data-status="in_sync"] { color: #1b5e20; }
.matinee-panel[data-theme="light"] .matinee-sync[data-status="syncing"] { color: #7a4f00; }
.matinee-panel[data-theme="light"] .matinee-sync:is([data-status="waiting"], [data-status="blocked"]) { color: #b71c1c; }
.matinee-close { background: none; border: 0; color: inherit; font-size: 1.1em; cursor: pointer; padding: 0.3em 0.5em; }
.matinee-conn { color: var(--matinee-warn); font-size: 0.9em; margin: 0.4em 0; }
.matinee-alert { margin: 0.5em 0; padding: 0.5em 0.7em; border-radius: 0.3em; background: rgba(229, 57, 53, 0.2); border-left: 3px solid var(--matinee-bad); }
.matinee-alert[data-kind="info"] { background: rgba(0, 164, 220, 0.15); border-left-color: var(--matinee-accent); }
.matinee-panel button { font: inherit; color: inherit; cursor: pointer; }
.matinee-panel button:focus-visible, .matinee-panel input:focus-visible { outline: 2px solid var(--matinee-accent); outline-offset: 2px; }
.matinee-panel .emby-button { margin: 0.2em 0.2em 0.2em 0; padding: 0.45em 0.9em; border-radius: 0.25em; border: 0; background: color-mix(in srgb, currentColor 16%, transparent); color: inherit; }
.matinee-panel .button-submit { background: var(--matinee-accent); color: #fff; }
.matinee-panel .emby-input { font: inherit; padding: 0.45em 0.6em; border-radius: 0.25em; border: 1px solid color-mix(in srgb, currentColor 35%, transparent); background: color-mix(in srgb, currentColor 6%, transparent); color: inherit; min-width: 0; }
.matinee-lobby { display: flex; flex-direction: column; gap: 0.8em; margin-top: 0.6em; }
.matinee-join { display: flex; gap: 0.4em; align-items: center; flex-wrap: wrap; }
.matinee-join label { width: 100%; color: var(--matinee-muted); font-size: 0.9em; }
.matinee-code-input { text-transform: uppercase; letter-spacing: 0.2em; width: 8em; }
.matinee-code-row { display: flex; align-items: center; gap: 0.5em; flex-wrap: wrap; margin-top: 0.6em; }
.matinee-code-label { color: var(--matinee-muted); }
.matinee-room-code { font-size: 1.6em; letter-spacing: 0.18em; font-family: monospace; user-select: all; }
.matinee-heading { font-size: 0.95em; color: var(--matinee-muted); margin: 0.9em 0 0.3em; font-weight: 500; }
.matinee-members { list-style: none; margin: 0; padding: 0; }
.matinee-member { display: grid; grid-template-columns: 1fr auto; align-items: center; column-gap: 0.5em; padding: 0.35em 0; border-bottom: 1px solid color-mix(in srgb, currentColor 10%, transparent); }
.matinee-member-main { display: flex; align-items: center; flex-wrap: wrap; gap: 0.4em; min-width: 0; }
.matinee-member-name { font-weight: 500; overflow-wrap: anywhere; }
.matinee-member-actions { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 0.2em; grid-row: span 2; max-width: 12em; }
.matinee-member-stats { color: var(--matinee-muted); font-size: 0.82em; font-variant-numeric: tabular-nums; }
.matinee-badge { font-size: 0.75em; padding: 0.05em 0.5em; border-radius: 1em; background: color-mix(in srgb, currentColor 22%, transparent); }
.matinee-badge-host { background: var(--matinee-accent); color: #fff; }
.matinee-badge-buffering { background: var(--matinee-warn); color: #000; }
.matinee-badge-away { background: var(--matinee-bad); color: #fff; }
.matinee-member .emby-button { font-size: 0.8em; padding: 0.25em 0.6em; }
.matinee-member .matinee-right[aria-pressed="true"] { background: var(--matinee-accent); color: #fff; }
.matinee-badge-right { background: color-mix(in srgb, var(--matinee-accent) 35%, transparent); }
.matinee-queue { list-style: none; margin: 0 0 0.3em; padding: 0; }
.matinee-queue-item { display: flex; align-items: center; gap: 0.3em; padding: 0.15em 0; }
.matinee-queue-title { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.matinee-queue-item .emby-button { min-width: 2em; padding: 0.1em 0.4em; }
.matinee-queue-empty { margin: 0 0 0.3em; opacity: 0.75; }
.matinee-queue-actions { display: flex; flex-wrap: wrap; gap: 0.4em; margin: 0 0 0.3em; }
.matinee-ready { display: flex; align-items: center; flex-wrap: wrap; gap: 0.4em; margin: 0 0 0.3em; }
.matinee-ready .emby-button[aria-pressed="true"] { background: var(--matinee-accent); color: #fff; }
.matinee-badge-ready { background: rgba(60, 170, 90, 0.6); color: #fff; }
.matinee-badge-not-ready { background: var(--matinee-warn); color: #000; }
.matinee-your-rights { color: var(--matinee-muted); font-size: 0.85em; margin: 0 0 0.3em; }
.matinee-chat-log { list-style: none; margin: 0; padding: 0; max-height: 10em; overflow-y: auto; }
.matinee-chat-line { padding: 0.15em 0; overflow-wrap: anywhere; }
.matinee-chat-name { font-weight: 500; margin-right: 0.5em; color: var(--matinee-accent); }
.matinee-chat-form { display: flex; gap: 0.4em; margin-top: 0.4em; }
.matinee-chat-input { flex: 1; }
.matinee-reactions { display: flex; gap: 0.2em; margin: 0.5em 0; }
.matinee-reaction { background: none; border: 0; font-size: 1.3em; padding: 0.1em 0.25em; border-radius: 0.25em; }
.matinee-reaction:hover { background: color-mix(in srgb, currentColor 12%, transparent); }
.matinee-leave { margin-top: 0.4em !important; }
/* The party over the video (ui/overlay.js): placed by ui/placement.js positionOverlay in the
   upper part of the picture; clicks go through it except on its input. */
.matinee-overlay { position: fixed; z-index: 1050; pointer-events: none; display: flex; flex-direction: column; align-items: flex-start; gap: 0.4em; overflow: hidden; box-sizing: border-box; font-size: 1rem; color: #fff; text-shadow: 0 1px 2px rgba(0, 0, 0, 0.8); }
.matinee-overlay[hidden], .matinee-overlay [hidden] { display: none !important; }
.matinee-notice { align-self: center; flex: none; max-width: 80%; padding: 0.35em 1em; border-radius: 1em; background: rgba(0, 0, 0, 0.72); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 1.05em; }
.matinee-chat-feed { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; justify-content: flex-end; gap: 0.25em; max-width: min(36em, 60%); min-height: 0; flex: 0 1 auto; overflow: hidden; }
.matinee-chat-feed-line { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; overflow-wrap: anywhere; padding: 0.25em 0.6em; border-radius: 0.4em; background: rgba(0, 0, 0, 0.6); opacity: 1; transition: opacity 0.6s ease; }
.matinee-chat-feed-line.matinee-fading { opacity: 0; }
.matinee-chat-feed-line .matinee-chat-name { font-weight: 600; margin-right: 0.5em; color: #7fd3f2; }
.matinee-chat-overlay-form { margin-top: auto; width: min(36em, 100%); pointer-events: auto; flex: none; }
.matinee-chat-overlay-input { box-sizing: border-box; width: 100%; font: inherit; color: #fff; background: rgba(0, 0, 0, 0.78); border: 1px solid rgba(255, 255, 255, 0.45); border-radius: 0.4em; padding: 0.5em 0.7em; }
.matinee-chat-overlay-input:focus-visible { outline: 2px solid #00a4dc; outline-offset: 1px; }
.matinee-float { position: absolute; right: 1em; bottom: 0; pointer-events: none; }
.matinee-float-emoji { display: block; font-size: 2.2em; animation: matinee-rise 2.5s ease-out forwards; }
@keyframes matinee-rise { from { transform: translateY(0); opacity: 1; } to { transform: translateY(-6em); opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .matinee-float-emoji { animation: none; } .matinee-chat-feed-line { transition: none; } }
/* The Watch party button in jellyfin-web 12's modern toolbar (ui/osd.js): shaped like its
   MUI IconButtons (size large: 12px padding around a 24px icon, round, the toolbar's colour). */
.btnMatineeToolbar { background: none; border: 0; color: inherit; padding: 12px; border-radius: 50%; cursor: pointer; display: inline-flex; align-items: center; justify-content: center; font-size: 1.5rem; line-height: 1; }
.btnMatineeToolbar:hover { background: color-mix(in srgb, currentColor 8%, transparent); }
.btnMatineeToolbar[hidden] { display: none; }
.btnMatineeToolbar .material-icons { font-size: 24px; }
/* "Watch on…" (remote/panel-section.js) */
.matinee-watch-on-row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em; margin: 0.6em 0; }
.matinee-watch-on-status { font-size: 0.9em; color: var(--matinee-muted, #aaa); flex-basis: 100%; }
.matinee-watch-on-row[data-remote="in_sync"] .matinee-watch-on-status { color: var(--matinee-ok, #4caf50); }
.matinee-watch-on-row[data-remote="not_responding"] .matinee-watch-on-status,
.matinee-watch-on-row[data-remote="gone"] .matinee-watch-on-status { color: var(--matinee-warn, #ffb300); }
.matinee-watch-on-list { list-style: none; margin: 0; padding: 0; flex-basis: 100%; }
.matinee-watch-on-list li { margin: 0.2em 0; }
.matinee-watch-on-target { width: 100%; text-align: left; display: flex; justify-content: space-between; gap: 0.6em; }
.matinee-watch-on-client { color: var(--matinee-muted, #aaa); font-size: 0.85em; }
.matinee-watch-on-empty { color: var(--matinee-muted, #aaa); font-size: 0.9em; }
.matinee-badge-remote { background: rgba(0, 164, 220, 0.25); }
`;

/** @param {Document} doc */
export function injectStyles(doc) {
  if (!doc || doc.getElementById('matinee-styles')) return;
  const style = doc.createElement('style');
  style.id = 'matinee-styles';
  style.textContent = CSS;
  doc.head.append(style);
}
