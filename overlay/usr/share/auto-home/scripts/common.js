// common.js runs first, in global scope: whatever it defines every other
// script (and thread()) can use. Handlers are written `name: function (...) {}`
// (MuJS is ES5: no arrow functions, let/const or template strings).

// Seconds the hall light stays on after the last motion.
var LIGHT_TIMEOUT_SECONDS = 120;

// Turns a device's switch on or off, if the device exists.
function switchDevice(id, on) {
  var d = home.getDevice(id);
  if (d && d.get('power')) d.set('power', on);
}

// Runs on another VM via thread('logSummary', {...}): handy for slow work that
// should not hold up the event that asked for it.
function logSummary(what) {
  home.log('summary:', what.device, what.property, '=', what.value);
}
