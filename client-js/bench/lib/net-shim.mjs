// @ts-check
/**
 * A network shim for the sync harness: a browser-WebSocket-like object around the `ws`
 * package that delays every frame per direction (base delay, jitter, occasional spikes) and
 * can cut the connection for a while, so that the real client core meets a realistic path
 * while talking to a real server on loopback.
 *
 * Frames in one direction are delivered in order (TCP never reorders): a frame's delivery
 * time is max(its own delay, the previous frame's delivery), so a spike also delays what
 * follows it — head-of-line blocking, as on a real connection.
 *
 * API:
 *   const net = new NetPath({god, timers, rng, upMs, downMs, jitterMs, spikeProb, spikeMs})
 *   net.createSocket(url)   → socket with send/close/readyState/onopen/onmessage/onclose/onerror
 *   net.cut(ms)             drop the live connection now; new connections fail for `ms`
 *   net.isDown()
 *   net.stats               {up, down, spikes, cuts}
 *
 * @module bench/net-shim
 */

import WebSocket from 'ws';

/** A FIFO of timed deliveries driven by one timer, so order is exact. */
class Lane {
  /** @param {{god: () => number, timers: any}} o */
  constructor({ god, timers }) {
    this.god = god;
    this.timers = timers;
    /** @type {{due: number, fn: () => void}[]} */
    this.queue = [];
    this.lastDue = -Infinity;
    this.timer = null;
  }

  /** @param {number} delayMs @param {() => void} fn */
  push(delayMs, fn) {
    const due = Math.max(this.god() + delayMs, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, fn });
    if (this.queue.length === 1) this._arm();
  }

  _arm() {
    if (this.timer !== null || !this.queue.length) return;
    const wait = Math.max(0, this.queue[0].due - this.god());
    this.timer = this.timers.setTimeout(() => this._fire(), wait);
  }

  _fire() {
    this.timer = null;
    const now = this.god();
    while (this.queue.length && this.queue[0].due <= now + 0.5) {
      const item = /** @type {{fn: () => void}} */ (this.queue.shift());
      try {
        item.fn();
      } catch (e) {
        console.error('sync-harness: delivery failed', e);
      }
    }
    this._arm();
  }

  /** Forget everything in flight (the path went down). */
  clear() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

export class NetPath {
  /**
   * @param {{god: () => number, timers: any, rng: () => number, upMs: number, downMs: number,
   *   jitterMs: number, spikeProb?: number, spikeMs?: [number, number]}} o
   */
  constructor({ god, timers, rng, upMs, downMs, jitterMs, spikeProb = 0, spikeMs = [100, 300] }) {
    this.god = god;
    this.timers = timers;
    this.rng = rng;
    this.upMs = upMs;
    this.downMs = downMs;
    this.jitterMs = jitterMs;
    this.spikeProb = spikeProb;
    this.spikeMs = spikeMs;
    this.up = new Lane({ god, timers });
    this.downLane = new Lane({ god, timers });
    this.downUntil = -Infinity;
    /** @type {ShimSocket|null} */
    this.live = null;
    this.stats = { up: 0, down: 0, spikes: 0, cuts: 0 };
  }

  /** One one-way delay: base ± uniform jitter, plus a spike now and then. */
  delay(base) {
    let d = base + (this.rng() * 2 - 1) * this.jitterMs;
    if (this.spikeProb > 0 && this.rng() < this.spikeProb) {
      d += this.spikeMs[0] + this.rng() * (this.spikeMs[1] - this.spikeMs[0]);
      this.stats.spikes += 1;
    }
    return Math.max(0, d);
  }

  isDown() {
    return this.god() < this.downUntil;
  }

  /** @param {number} ms */
  cut(ms) {
    this.downUntil = this.god() + ms;
    this.stats.cuts += 1;
    this.up.clear();
    this.downLane.clear();
    const s = this.live;
    this.live = null;
    // The OS reports the dead link at once (interface down): both ends see the socket die.
    if (s) s._die();
  }

  /** @param {string} url */
  createSocket(url) {
    const s = new ShimSocket(this, url);
    return s;
  }
}

/** The subset of the browser WebSocket API the client's Connection uses. */
export class ShimSocket {
  /** @param {NetPath} net @param {string} url */
  constructor(net, url) {
    this.net = net;
    this.readyState = 0; // CONNECTING
    /** @type {((ev: any) => void)|null} */ this.onopen = null;
    /** @type {((ev: any) => void)|null} */ this.onmessage = null;
    /** @type {((ev: any) => void)|null} */ this.onclose = null;
    /** @type {((ev: any) => void)|null} */ this.onerror = null;
    this.ws = null;
    this.dead = false;
    if (net.isDown()) {
      // No route: the attempt fails after about one round trip's worth of time.
      net.timers.setTimeout(() => this._closed(1006, 'network down'), net.delay(net.upMs) + net.delay(net.downMs));
      return;
    }
    net.live = this;
    // The TCP + HTTP upgrade handshake costs a round trip before `open` is seen.
    net.up.push(net.delay(net.upMs), () => {
      if (this.dead) return;
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.on('open', () => net.downLane.push(net.delay(net.downMs), () => {
        if (this.dead) return;
        this.readyState = 1;
        this.onopen?.({});
      }));
      ws.on('message', (data) => {
        net.stats.down += 1;
        const text = data.toString();
        net.downLane.push(net.delay(net.downMs), () => {
          if (!this.dead) this.onmessage?.({ data: text });
        });
      });
      ws.on('close', (code, reason) => net.downLane.push(net.delay(net.downMs), () => this._closed(code, reason.toString())));
      ws.on('error', () => { /* 'close' follows */ });
    });
  }

  /** @param {string} text */
  send(text) {
    if (this.readyState === 0) throw new Error('InvalidStateError: still connecting');
    if (this.readyState !== 1) return; // closing or closed: browsers drop silently
    this.net.stats.up += 1;
    this.net.up.push(this.net.delay(this.net.upMs), () => {
      if (!this.dead && this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    });
  }

  /** @param {number} [code] @param {string} [reason] */
  close(code = 1000, reason = '') {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    const ws = this.ws;
    this.net.up.push(this.net.delay(this.net.upMs), () => {
      if (ws && ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      else if (ws) ws.terminate();
      else this._closed(code, reason);
    });
  }

  /** The link died under this socket. */
  _die() {
    if (this.ws) this.ws.terminate();
    this._closed(1006, 'connection lost');
  }

  _closed(code, reason) {
    if (this.dead) return;
    this.dead = true;
    this.readyState = 3;
    if (this.net.live === this) this.net.live = null;
    if (code === 1006) this.onerror?.({});
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }
}
