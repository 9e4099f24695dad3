/* PerformChat widget, part 2 of 4: what the page shows of the agent's tool use (no DOM): the line
 * while a tool runs and the history's messages as the page shows them. Never a tool's answer. */
(function (global) {
  'use strict';

  var TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

  /**
   * The discreet line shown while a tool runs: "Looking up order_status…". A name that is not a
   * tool name (`^[A-Za-z0-9_-]{1,64}$`) is not shown.
   */
  function toolLine(name) {
    return typeof name === 'string' && TOOL_NAME.test(name) ? 'Looking up ' + name + '\u2026' : 'Looking something up\u2026';
  }

  /**
   * What a conversation's history shows: `{ role, content, sources }` bubbles for user and
   * assistant messages; for a tool message that calls, the text the model wrote with the calls (if
   * any) as an assistant bubble and a note "Looked up <names>"; tool results are not shown (the
   * tool's raw answer is for the model, the reply says what it means).
   */
  function historyItems(messages) {
    var out = [];
    (Array.isArray(messages) ? messages : []).forEach(function (m) {
      if (!m || typeof m !== 'object') return;
      if (m.role === 'user' || m.role === 'assistant') {
        out.push({ id: m.id, role: m.role, content: typeof m.content === 'string' ? m.content : '', sources: m.sources });
      } else if (m.role === 'tool' && Array.isArray(m.tool_calls)) {
        if (typeof m.content === 'string' && m.content.trim()) out.push({ id: m.id, role: 'assistant', content: m.content });
        var names = [];
        m.tool_calls.forEach(function (c) {
          var name = c && typeof c.name === 'string' && TOOL_NAME.test(c.name) ? c.name : null;
          if (name && names.indexOf(name) < 0) names.push(name);
        });
        out.push({ id: m.id, role: 'tool', content: names.length ? 'Looked up ' + names.join(', ') : 'Looked something up' });
      }
    });
    return out;
  }

  var I = global.PerformChat._internal;
  I.toolLine = toolLine;
  I.historyItems = historyItems;
})(typeof window !== 'undefined' ? window : globalThis);
