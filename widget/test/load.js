// Loads widget/core.js as the browser would, into a fresh context, and returns its internals.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const source = fs.readFileSync(path.join(__dirname, '..', 'core.js'), 'utf8');

module.exports = function load() {
  const context = vm.createContext({ atob, TextDecoder, setTimeout, clearTimeout, Promise, Date, URL });
  vm.runInContext(source, context, { filename: 'core.js' });
  return context.PerformChat._internal;
};
