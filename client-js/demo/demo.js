// @ts-check
// The demo page served by `matinee-server --demo`: the Matinee client on a plain <video>.
// Everything is loaded with relative URLs so the page works under any prefix.
//
// URL parameters: ?name=<display name>  skips the name form
//                 ?matinee=<room code>  (the invite link) joins that room once connected

import { Manager } from '../src/core/manager.js';
import { HtmlVideoPlayer } from '../src/players/html-video.js';
import { WatchPartyPanel } from '../src/ui/panel.js';
import { pickLanguage } from '../src/ui/i18n.js';

const CLIP = './demo/clip.mp4';
const params = new URLSearchParams(location.search);
const $ = (id) => /** @type {any} */ (document.getElementById(id));

const video = /** @type {HTMLVideoElement} */ ($('video'));
const player = new HtmlVideoPlayer(video);

/** The name is asked once per browser and remembered; `?name=` wins. */
function askName() {
  const given = (params.get('name') || '').trim();
  if (given) return Promise.resolve(given.slice(0, 40));
  let stored = null;
  try { stored = localStorage.getItem('matinee.name'); } catch { /* storage disabled */ }
  if (stored) return Promise.resolve(stored);
  const form = $('name-form');
  form.hidden = false;
  $('name-input').focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = String($('name-input').value).trim().slice(0, 40);
      if (!name) return;
      try { localStorage.setItem('matinee.name', name); } catch { /* storage disabled */ }
      form.hidden = true;
      resolve(name);
    });
  });
}
const namePromise = askName();

const wsUrl = new URL('ws', location.href);
wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';

// The resume secret lives in sessionStorage: a reload of this tab gets its seat back, another
// tab is another member.
const resumeStore = {
  get: () => sessionStorage.getItem('matinee.resume'),
  set: (v) => { if (v) sessionStorage.setItem('matinee.resume', v); else sessionStorage.removeItem('matinee.resume'); },
};

const manager = new Manager({
  url: wsUrl.href,
  createSocket: (url) => new WebSocket(url),
  now: () => performance.timeOrigin + performance.now(),
  timers: {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h),
  },
  player,
  credentials: async () => ({ name: await namePromise }),
  client: { name: 'matinee-demo', version: '0.1.0' },
  resumeStore,
});

const partyButton = $('btn-party');
const panel = new WatchPartyPanel({
  manager,
  onToggle: (open) => partyButton.setAttribute('aria-expanded', String(open)),
  lang: pickLanguage(params.get('lang') ? [String(params.get('lang'))] : navigator.languages),
  inviteUrl: (code) => {
    const u = new URL(location.pathname, location.href);
    u.searchParams.set('matinee', code);
    return u.href;
  },
});
document.body.append(panel.element);

partyButton.addEventListener('click', () => panel.toggle());

// Controls: in a room they are intents (the room answers with a state); alone they act on
// the video directly.
$('btn-play').addEventListener('click', () => (manager.room ? manager.play() : video.play()));
$('btn-pause').addEventListener('click', () => (manager.room ? manager.pause() : video.pause()));
const jump = (delta) => {
  const here = manager.core.targetPosition() ?? video.currentTime;
  const to = Math.max(0, here + delta);
  if (manager.room) manager.seek(to);
  else video.currentTime = to;
};
$('btn-back').addEventListener('click', () => jump(-10));
$('btn-fwd').addEventListener('click', () => jump(10));
$('btn-mute').addEventListener('click', (e) => {
  video.muted = !video.muted;
  e.currentTarget.textContent = video.muted ? 'Sound off' : 'Sound on';
  e.currentTarget.setAttribute('aria-pressed', String(video.muted));
});
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = String($('url-input').value).trim();
  if (!url) return;
  if (manager.room) {
    try { manager.setMedia({ id: url }, 0); } catch (err) { panel.showError(/** @type {any} */ (err)); }
  } else {
    player.load(url).catch((err) => panel.showError({ code: 'generic', message: String(err.message || err) }));
  }
});

// A blocked autoplay (sound on, no click yet) is explained, and the next click retries.
video.addEventListener('play', () => { $('autoplay').hidden = true; });
document.addEventListener('click', () => { if (!$('autoplay').hidden) manager.core.reassert(); });
setInterval(() => {
  const refused = manager.core.sync.lastAction.startsWith('play refused');
  $('autoplay').hidden = !refused || !video.paused;
}, 1000);

const stats = $('stats');
manager.on('sync', (sync, ts) => {
  const f = (x, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '–');
  stats.textContent = `${sync.status} · error ${f(sync.errorMs)} ms · offset ${f(ts.offsetMs)} ms · rtt ${f(ts.rttMs)} ms · seek ${f(sync.seekMs, 0)} ms · rate ${video.playbackRate.toFixed(3)}`;
});

// The invite link joins its room once the connection is up (and not again after a reload
// that resumed the seat).
const invite = params.get('matinee');
if (invite) {
  let tried = false;
  manager.on('welcome', ({ resumed }) => {
    if (tried) return;
    tried = true;
    panel.open();
    if (resumed || manager.room) return;
    manager.joinRoom(invite).catch((err) => panel.showError(err));
  });
}

await player.load(CLIP).catch((err) => panel.showError({ code: 'generic', message: String(err.message || err) }));
manager.start();

// For the browser tests and for curious developers.
Object.assign(window, { matinee: { manager, player, panel, video } });
