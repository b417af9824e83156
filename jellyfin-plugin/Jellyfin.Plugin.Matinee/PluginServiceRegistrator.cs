using Jellyfin.Plugin.Matinee.Core.Web;
using Jellyfin.Plugin.Matinee.Tokens;
using Jellyfin.Plugin.Matinee.Web;
using MediaBrowser.Controller;
using MediaBrowser.Controller.Plugins;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Jellyfin.Plugin.Matinee;

/// <summary>
/// Registers Matinee's services. Signature per MediaBrowser.Controller/Plugins/IPluginServiceRegistrator.cs
/// (v10.10.7, v10.11.11 and v12.0-rc5: <c>RegisterServices(IServiceCollection, IServerApplicationHost)</c>);
/// Jellyfin creates this class with its parameterless constructor.
/// </summary>
public sealed class PluginServiceRegistrator : IPluginServiceRegistrator
{
    /// <inheritdoc />
    public void RegisterServices(IServiceCollection serviceCollection, IServerApplicationHost applicationHost)
    {
        serviceCollection.AddSingleton<MatineeContext>();
        serviceCollection.AddSingleton<SigningKeyService>();
        serviceCollection.AddSingleton<InjectionStatus>();
        // Decides between File Transformation and our middleware before the first request.
        serviceCollection.AddHostedService<InjectionStartup>();
        serviceCollection.AddTransient<IStartupFilter, WebRewriteStartupFilter>();
    }
}
