import AutoHomeSupport

/// The JavaScript half of the script API (SPEC §4), loaded into every VM before
/// the owner's scripts. Natives (`__n_*`) take and return strings only; this
/// file turns them into the objects scripts use. ES5 only: MuJS.
enum Prelude {
    static let fileName = "prelude.js"

    static let source = #"""
var home = { continueProcessing: 0, groupProcessing: 1, stopProcessing: 2, preventUpdate: 3 };
var plugin = {};
var __handlers = {}, __timers = {}, __event = null;
var __global = this;

function __str(v) {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return '[function]';
  try { return JSON.stringify(v); } catch (e) { return String(v); }
}
function __join(args) {
  var parts = [];
  for (var i = 0; i < args.length; i++) parts.push(__str(args[i]));
  return parts.join(' ');
}
function __parse(s) { return s === undefined ? undefined : JSON.parse(s); }

function __set(script, key, handlers) {
  if (typeof key !== 'string') throw new TypeError('set(key, handlers): key must be a string');
  if (key.indexOf('device/') === 0) key = key.substring(7);
  if (handlers === null || typeof handlers !== 'object') throw new TypeError('set("' + key + '", handlers): handlers must be an object');
  __handlers[key] = handlers;
  var names = [];
  for (var k in handlers) if (typeof handlers[k] === 'function') names.push(k);
  __n_registered(key, names.join(','), script);
}
function set(key, handlers) { __set('common.js', key, handlers); }

function Property(deviceId, p, previous) {
  this.deviceId = deviceId;
  this.name = p.name;
  this.type = p.type;
  this.mode = p.mode;
  this.value = p.value;
  this.previous = previous === undefined ? p.value : previous;
  if (p.label !== undefined) this.label = p.label;
  if (p.min !== undefined) { this.min = p.min; this.max = p.max; }
}
Property.prototype.isSwitch = function () { return this.type === 'switch'; };
Property.prototype.isDial = function () { return this.type === 'dial'; };
Property.prototype.isButton = function () { return this.type === 'button'; };
Property.prototype.isText = function () { return this.type === 'text'; };
Property.prototype.asBool = function () {
  if (this.type === 'dial') return this.value > this.min;
  if (this.type === 'text') return this.value !== '';
  return this.value === true;
};
Property.prototype.asPercent = function () {
  if (this.type === 'dial') return this.max === this.min ? 0 : (this.value - this.min) / (this.max - this.min) * 100;
  if (this.type === 'text') return NaN;
  return this.value ? 100 : 0;
};
Property.prototype.valueOf = function () { return this.value; };
Property.prototype.toString = function () { return String(this.value); };
Property.prototype.history = function (n) {
  return JSON.parse(__n_history(this.deviceId, this.name, String(n === undefined ? 16 : n)));
};
Object.defineProperty(Property.prototype, 'latest', {
  get: function () { return __parse(__n_latest(this.deviceId, this.name)); }
});

function Device(d, previous) {
  this.id = d.id;
  this.name = d.name;
  if (d.description !== undefined) this.description = d.description;
  this.properties = [];
  Object.defineProperty(this, '__byName', { value: {}, enumerable: false });
  for (var i = 0; i < d.properties.length; i++) {
    var p = d.properties[i];
    var prop = new Property(d.id, p, previous ? previous[p.name] : undefined);
    this.properties.push(prop);
    this.__byName[p.name] = prop;
  }
}
Device.prototype.get = function (name) {
  var p = this.__byName[name];
  return p === undefined ? null : p;
};
Device.prototype.set = function (name, value) {
  __n_set(this.id, String(name), JSON.stringify(value === undefined ? null : value));
};

function __device(s) { return s === undefined ? null : new Device(JSON.parse(s)); }
function __devices(s) {
  var list = JSON.parse(s), out = [];
  for (var i = 0; i < list.length; i++) out.push(new Device(list[i]));
  return out;
}
function __group(s) {
  if (s === undefined) return null;
  var g = JSON.parse(s);
  return {
    id: g.id, name: g.name,
    devices: function () {
      var out = [];
      for (var i = 0; i < g.devices.length; i++) { var d = home.getDevice(g.devices[i]); if (d) out.push(d); }
      return out;
    },
    groups: function () {
      var out = [];
      for (var i = 0; i < g.groups.length; i++) { var c = home.getGroup(g.groups[i]); if (c) out.push(c); }
      return out;
    }
  };
}

home.getDevice = function (id) { return __device(__n_device(String(id))); };
home.getDeviceById = home.getDevice;
home.getDeviceByName = function (name) { return __device(__n_deviceByName(String(name))); };
home.getDevices = function () { return __devices(__n_devices()); };
home.getDevicesStartName = function (prefix) { return __devices(__n_devicesStartName(String(prefix))); };
home.getDevicesInGroup = function (id) { var s = __n_devicesInGroup(String(id)); return s === undefined ? null : __devices(s); };
home.isInGroup = function (deviceId, groupId) { return __n_isInGroup(String(deviceId), String(groupId)) === 'true'; };
home.getGroup = function (id) { return __group(__n_group(String(id))); };
home.countdown = function (name, seconds, fn, arg) {
  name = String(name);
  seconds = Number(seconds);
  if (!(seconds > 0)) { delete __timers[name]; __n_countdown(name, '0'); return; }
  if (typeof fn === 'string') {
    delete __timers[name];
    __n_countdown(name, String(seconds), 'n', fn, JSON.stringify(arg === undefined ? null : arg));
    return;
  }
  if (typeof fn !== 'function') throw new TypeError('home.countdown(name, seconds, fn): fn must be a function or the name of a global function');
  __timers[name] = fn;
  __n_countdown(name, String(seconds), 'f');
};
home.countdowns = function () { return JSON.parse(__n_countdowns()); };
home.setGlobal = function (name, value) { __n_setGlobal(String(name), JSON.stringify(value === undefined ? null : value)); };
home.getGlobal = function (name) { return __parse(__n_getGlobal(String(name))); };
home.sleep = function (seconds) { __n_sleep(String(Number(seconds))); };

function __scoped(script) {
  var h = Object.create(home);
  h.log = function () { __n_log(script, 'info', __join(arguments)); };
  var c = {
    log: function () { __n_log(script, 'info', __join(arguments)); },
    info: function () { __n_log(script, 'info', __join(arguments)); },
    warn: function () { __n_log(script, 'warn', __join(arguments)); },
    error: function () { __n_log(script, 'error', __join(arguments)); }
  };
  return { home: h, console: c, set: function (key, handlers) { __set(script, key, handlers); } };
}
function __scopedArgs(script) { var s = __scoped(script); return [s.home, s.console, s.set]; }
(function () {
  var s = __scoped('common.js');
  home.log = s.home.log;
  __global.console = s.console;
})();

// plugin.<name>.<method>(...): one generic native for every plugin. The
// catalog is read when the VM is built (a new plugin rebuilds the VMs).
(function () {
  var list = JSON.parse(__n_plugins());
  function method(name, m) {
    return function () {
      var args = [];
      for (var i = 0; i < arguments.length; i++) args.push(arguments[i] === undefined ? null : arguments[i]);
      return __parse(__n_plugin(name, m, JSON.stringify(args)));
    };
  }
  for (var i = 0; i < list.length; i++) {
    var p = {};
    for (var j = 0; j < list[i].methods.length; j++) p[list[i].methods[j]] = method(list[i].name, list[i].methods[j]);
    plugin[list[i].name] = p;
  }
})();

function thread(fnName, value) {
  __n_thread(String(fnName), JSON.stringify(value === undefined ? null : value));
}

// Entry points the engine calls. `eventJson` is sent with a run's first call
// (and again after a VM was replaced); '' means "the run's device as before".
function __call(eventJson, previousJson, key, fn, propName, changes) {
  if (eventJson !== '') __event = new Device(JSON.parse(eventJson), JSON.parse(previousJson));
  var h = __handlers[key];
  if (!h || typeof h[fn] !== 'function') return -1;
  var r;
  if (fn === 'onchange') {
    var list = changes === '' ? [] : changes.split(','), ch = [];
    for (var i = 0; i < list.length; i++) ch.push(__event.get(list[i]));
    __event.changes = ch;
    r = h.onchange(__event);
    delete __event.changes;
  } else if (propName !== '') {
    var p = __event.get(propName);
    r = fn.lastIndexOf('_onchange') === fn.length - 9 ? h[fn](p.value, p) : h[fn](p);
  } else {
    r = h[fn]();
  }
  return r === undefined || r === null ? 0 : Number(r);
}

// A plugin event: set("plugin/<name>", {on<event>: function (data) {...}}).
function __pluginEvent(key, fn, dataJson) {
  var h = __handlers[key];
  if (!h || typeof h[fn] !== 'function') return -1;
  h[fn](JSON.parse(dataJson));
  return 0;
}

function __fireTimer(name) {
  var f = __timers[name];
  delete __timers[name];
  if (typeof f === 'function') f();
}

function __runNamed(name, fnName, argJson) {
  var f = __global[fnName];
  if (typeof f !== 'function') throw new TypeError('countdown "' + name + '": no global function named "' + fnName + '"');
  f(JSON.parse(argJson));
}

function __runThread(fnName, valueJson) {
  var f = __global[fnName];
  if (typeof f !== 'function') throw new TypeError('thread(): no global function named "' + fnName + '"');
  f(JSON.parse(valueJson));
}
"""#
}
