using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Puts <see cref="WebRewriteMiddleware"/> in front of Jellyfin's own pipeline. Startup filters
/// registered in the service collection run around <c>Startup.Configure</c>; Jellyfin calls
/// plugins' <c>IPluginServiceRegistrator.RegisterServices</c> from <c>ApplicationHost.Init</c>,
/// inside the web host's <c>ConfigureServices</c> (Jellyfin.Server/Program.cs,
/// Emby.Server.Implementations/ApplicationHost.cs), so the filter is seen.
/// </summary>
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
