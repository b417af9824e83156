using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Puts <see cref="WebRewriteMiddleware"/> in front of Jellyfin's own pipeline. Startup filters
/// registered in the service collection run around <c>Startup.Configure</c>: ASP.NET Core's web
/// host service takes every <see cref="IStartupFilter"/> from the built container and wraps
/// <c>Configure</c> with them, first registered outermost.
/// </summary>
/// <remarks>
/// Why ours is seen, checked in Jellyfin.Server/Program.cs:
/// <list type="bullet">
/// <item>v10.10.7 lines 140-154: <c>Host.CreateDefaultBuilder().ConfigureServices(services => appHost.Init(services))</c>,
/// then <c>ConfigureWebHostDefaults</c> (UseStartup), <c>ConfigureAppConfiguration</c>, <c>UseSerilog</c>,
/// <c>Build()</c>. <c>ApplicationHost.Init</c> calls <c>PluginManager.RegisterServices</c>, which
/// creates each <c>IPluginServiceRegistrator</c> and calls <c>RegisterServices</c>
/// (Emby.Server.Implementations/ApplicationHost.cs line 450, Plugins/PluginManager.cs lines 208-226).</item>
/// <item>v10.11.11 lines 168-185: the same, plus a second <c>ConfigureServices</c> (lines 182-184)
/// that only adds <c>RegisterStartupLogger()</c> (two transient <c>IStartupLogger</c> registrations,
/// Jellyfin.Server/ServerSetupApp/StartupLoggerExtensions.cs) and <c>AddSingleton&lt;IServiceCollection&gt;</c>.
/// Nothing there, nor anywhere in Jellyfin's source at any of these tags, removes or replaces
/// <see cref="IStartupFilter"/> registrations (no <c>RemoveAll</c>/<c>Replace</c> of them).</item>
/// <item>v12.0-rc5 lines 169-185: the same two <c>ConfigureServices</c> calls, in the same order.</item>
/// <item>Jellyfin.Server/Startup.cs <c>ConfigureServices</c> (every tag) does not touch startup
/// filters either, and <c>Configure</c> (v10.10.7 lines 145-231, v10.11.11 lines 144-236,
/// v12.0-rc5 lines 166-257) builds
/// <c>UseBaseUrlRedirection</c> then <c>app.Map(BaseUrl, …)</c> with compression, static files
/// for <c>/web</c> and the API inside: the middleware added here runs before all of it.</item>
/// </list>
/// Our registration happens in the first <c>ConfigureServices</c>, before
/// <c>ConfigureWebHostDefaults</c> adds ASP.NET Core's own filters, so our middleware is the
/// outermost; a request those reject comes back as a non-200 and is passed through untouched.
/// </remarks>
public sealed class WebRewriteStartupFilter : IStartupFilter
{
    /// <inheritdoc />
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        return app =>
        {
            app.UseMiddleware<WebRewriteMiddleware>();
            next(app);
        };
    }
}
