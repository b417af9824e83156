using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Puts <see cref="WebRewriteMiddleware"/> in front of Jellyfin's own pipeline. Startup filters
/// registered in the service collection run around <c>Startup.Configure</c>. Jellyfin calls
/// plugins' <c>IPluginServiceRegistrator.RegisterServices</c> from <c>ApplicationHost.Init</c>,
/// which runs in the generic host's <c>ConfigureServices</c>
/// (<c>Host.CreateDefaultBuilder().ConfigureServices(services => appHost.Init(services))</c> in
/// Jellyfin.Server/Program.cs, v10.10.7 and v10.11.11). That is the container ASP.NET Core's
/// web host service takes its <see cref="IStartupFilter"/>s from when it builds the pipeline,
/// so the filter is seen.
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
