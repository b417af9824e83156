// System, branding, quick connect, bitrate test: what jellyfin-web asks before and around login.
// Jellyfin.Api/Controllers/SystemController.cs, BrandingController.cs, QuickConnectController.cs,
// MediaInfoController.cs (GetBitrateTestBytes) at v10.10.7 and v10.11.11;
// MediaBrowser.Model/System/PublicSystemInfo.cs, SystemInfo.cs, EndPointInfo.cs (Model/Net),
// MediaBrowser.Model/Branding/BrandingOptions(Dto).cs.

import { randomBytes } from 'node:crypto';
import { HttpError, queryGet } from './http.js';

/** @param {import('./http.js').Router} router @param {any} state */
export function systemRoutes(router, state) {
  const publicInfo = () => ({
    LocalAddress: state.origin,
    ServerName: state.serverName,
    Version: state.version,
    ProductName: 'Jellyfin Server',
    OperatingSystem: '',
    Id: state.serverId,
    StartupWizardCompleted: true,
  });
  router.add('GET', '/System/Info/Public', () => ({ json: publicInfo() }), { auth: 'anonymous' });
  router.add('GET', '/System/Info', () => ({
    json: {
      ...publicInfo(),
      OperatingSystemDisplayName: '',
      HasPendingRestart: false,
      IsShuttingDown: false,
      SupportsLibraryMonitor: true,
      WebSocketPortNumber: state.port,
      CompletedInstallations: [],
      CanSelfRestart: false,
      CanLaunchWebBrowser: false,
      ProgramDataPath: '/config',
      WebPath: '/jellyfin/jellyfin-web',
      ItemsByNamePath: '/config/metadata',
      CachePath: '/cache',
      LogPath: '/config/log',
      InternalMetadataPath: '/config/metadata',
      TranscodingTempPath: '/cache/transcodes',
      CastReceiverApplications: [{ Id: 'F007D354', Name: 'Stable' }, { Id: '6F511C87', Name: 'Unstable' }],
      HasUpdateAvailable: false,
      EncoderLocation: 'System',
      SystemArchitecture: 'X64',
    },
  }));
  // SystemController.PingSystem: the literal product name, as a JSON string.
  router.add('GET', '/System/Ping', () => ({ json: 'Jellyfin Server' }), { auth: 'anonymous' });
  router.add('POST', '/System/Ping', () => ({ json: 'Jellyfin Server' }), { auth: 'anonymous' });
  // SystemController.GetEndpointInfo: every caller here is on loopback, i.e. local.
  router.add('GET', '/System/Endpoint', () => ({ json: { IsLocal: true, IsInNetwork: true } }));
  router.add('GET', '/Branding/Configuration', () => ({ json: { SplashscreenEnabled: false } }), { auth: 'anonymous' });
  router.add('GET', '/Branding/Css', () => ({ text: '', type: 'text/css; charset=utf-8' }), { auth: 'anonymous' });
  router.add('GET', '/Branding/Css.css', () => ({ text: '', type: 'text/css; charset=utf-8' }), { auth: 'anonymous' });
  router.add('GET', '/QuickConnect/Enabled', () => ({ json: false }), { auth: 'anonymous' });
  // MediaInfoController.GetBitrateTestBytes: size 1..100,000,000 bytes (default 102400).
  router.add('GET', '/Playback/BitrateTest', (ctx) => {
    const size = Number(queryGet(ctx.url, 'size') ?? 102400);
    if (!Number.isInteger(size) || size < 1 || size > 100_000_000) throw new HttpError(400, 'size must be 1-100000000');
    // Capped lower here: loopback bandwidth is not what a test measures.
    return { bytes: randomBytes(Math.min(size, 4_000_000)), type: 'application/octet-stream' };
  });
}
