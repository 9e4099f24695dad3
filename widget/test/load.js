// Loads widget/core.js and tools.js (the parts without a DOM) as the browser would, into a fresh context, and returns its internals.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const read = (name) => fs.readFileSync(path.join(__dirname, '..', name), 'utf8');
const sources = ['core.js', 'tools.js'];

module.exports = function load() {
  const context = vm.createContext({ atob, TextDecoder, setTimeout, clearTimeout, Promise, Date, URL });
  for (const name of sources) vm.runInContext(read(name), context, { filename: name });
  return context.PerformChat._internal;
};
