/* PerformChat widget, part 3 of 4: its look, kept in the shadow root so the site's CSS cannot reach it. */
(function (global) {
  'use strict';
  global.PerformChat._internal.CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; }
button { font: inherit; cursor: pointer; }
button:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #7aa7ff; outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }

.launcher { position: fixed; right: 20px; bottom: 20px; width: 58px; height: 58px; border: 0; border-radius: 50%;
  background: #2957d8; color: #fff; box-shadow: 0 6px 18px rgba(20, 40, 90, .35); display: grid; place-items: center;
  z-index: 2147483000; }
.launcher:hover { background: #1f47b8; }
.launcher svg { width: 28px; height: 28px; fill: currentColor; }

.panel { position: fixed; right: 20px; bottom: 92px; width: 380px; height: 580px; max-height: calc(100vh - 112px);
  display: flex; flex-direction: column; background: #fff; border-radius: 14px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(20, 30, 60, .28); z-index: 2147483000; }
.embedded .panel { position: static; width: 100%; height: 100%; max-height: none; box-shadow: none; border: 1px solid #d7dce6; }

header { display: flex; align-items: center; gap: 8px; padding: 12px 12px 12px 16px; background: #2957d8; color: #fff; }
header .titles { flex: 1; min-width: 0; }
header h2 { margin: 0; font-size: 16px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
header p { margin: 0; font-size: 12px; opacity: .85; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.icon { width: 34px; height: 34px; border: 0; border-radius: 8px; background: transparent; color: inherit; font-size: 20px; line-height: 1; }
.icon:hover { background: rgba(255, 255, 255, .18); }

.notice { margin: 10px 12px 0; padding: 8px 10px; border-radius: 8px; background: #fdecec; color: #8a1c1c; font-size: 14px; }
.status { margin: 0 12px; min-height: 0; font-size: 13px; color: #5a6478; }
.status:not(:empty) { padding: 4px 0; }

.view { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.list { overflow-y: auto; padding: 12px; gap: 8px; }
.primary { border: 0; border-radius: 10px; padding: 10px 14px; background: #2957d8; color: #fff; font-weight: 600; }
.primary:hover { background: #1f47b8; }
.secondary { border: 1px solid #cfd6e4; border-radius: 10px; padding: 8px 12px; background: #fff; color: #2957d8; }
.convs { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.convs button { width: 100%; text-align: left; border: 1px solid #e1e5ee; border-radius: 10px; background: #f7f8fb; padding: 10px 12px; color: inherit; }
.convs button:hover { background: #eef2fb; }
.convs .t { display: block; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.convs time { display: block; font-size: 12px; color: #5a6478; }
.empty { color: #5a6478; text-align: center; margin: 24px 0; }

.scroller { flex: 1; min-height: 0; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.earlier { align-self: center; }
.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: #2957d8; color: #fff; border-bottom-right-radius: 4px; }
.msg.assistant { align-self: flex-start; background: #eef1f7; border-bottom-left-radius: 4px; }
.msg.assistant[aria-busy="true"]::after { content: "\\258D"; opacity: .6; }
.msg.unanswered { opacity: .75; }
.msg .note { display: block; margin-top: 4px; font-size: 12px; opacity: .9; white-space: normal; }
.msg .sources { display: block; margin-top: 6px; padding-top: 6px; border-top: 1px solid #d5dbe7; font-size: 12px; white-space: normal; }
.msg .sources .label { display: block; font-weight: 600; margin-bottom: 2px; }
.msg .sources ul { margin: 0; padding-left: 16px; }
.msg .sources a { color: #2957d8; }
.tool-note { align-self: flex-start; font-size: 12px; font-style: italic; color: #5a6478; padding: 0 4px; }

form { display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px 12px; border-top: 1px solid #e1e5ee; }
textarea { flex: 1; resize: none; font: inherit; color: inherit; border: 1px solid #cfd6e4; border-radius: 10px; padding: 8px 10px;
  min-height: 40px; max-height: 140px; background: #fff; }
form .primary { padding: 9px 14px; }

@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; max-height: none; border-radius: 0; }
  .open .launcher { display: none; }
  .msg { max-width: 92%; }
}
`;
})(typeof window !== 'undefined' ? window : globalThis);
