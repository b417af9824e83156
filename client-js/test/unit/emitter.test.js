import test from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../src/core/emitter.js';
import { Emitter as PlayerEmitter } from '../../src/players/player.js';
import { Connection } from '../../src/core/connection.js';
import { Manager } from '../../src/core/manager.js';

test('listeners get the arguments, in the order they were added; off() removes one', () => {
  const e = new Emitter();
  const calls = [];
  e.on('x', (a, b) => calls.push(['first', a, b]));
  const off = e.on('x', (a) => calls.push(['second', a]));
  e.on('y', () => calls.push(['other event']));
  e.emit('x', 1, 2);
  off();
  e.emit('x', 3, 4);
  assert.deepEqual(calls, [['first', 1, 2], ['second', 1], ['first', 3, 4]]);
});

test('a listener that throws is logged and the others still run', (t) => {
  const logged = [];
  t.mock.method(console, 'error', (...args) => logged.push(args));
  const e = new Emitter();
  const calls = [];
  e.on('x', () => { throw new Error('broken panel'); });
  e.on('x', () => calls.push('after'));
  e.emit('x');
  assert.deepEqual(calls, ['after']);
  assert.equal(logged.length, 1);
  assert.match(String(logged[0][0]), /"x" listener failed/);
  assert.equal(logged[0][1].message, 'broken panel');
});

test('a listener may remove itself or add another while an event is delivered', () => {
  const e = new Emitter();
  const calls = [];
  const off = e.on('x', () => { calls.push('once'); off(); e.on('x', () => calls.push('added')); });
  e.emit('x');
  e.emit('x');
  assert.deepEqual(calls, ['once', 'added']);
});

test('emitting an event nobody listens to is a no-op', () => {
  assert.doesNotThrow(() => new Emitter().emit('nothing', 1));
});

test('the connection, the manager and the player adapters share the one emitter', () => {
  assert.equal(PlayerEmitter, Emitter);
  assert.ok(Object.getPrototypeOf(Connection.prototype) === Emitter.prototype);
  assert.ok(Object.getPrototypeOf(Manager.prototype) === Emitter.prototype);
});
