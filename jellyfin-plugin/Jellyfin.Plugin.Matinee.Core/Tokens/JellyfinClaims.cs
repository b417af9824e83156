using System;
using System.Collections.Generic;
using System.Globalization;

namespace Jellyfin.Plugin.Matinee.Core.Tokens
{
    /// <summary>
    /// Who may get a Matinee token, decided from the claims Jellyfin's authentication handler puts
    /// on the request. Jellyfin.Api/Auth/CustomAuthenticationHandler.cs (v10.10.7 lines 58-69,
    /// v10.11.11 lines 60-71) writes, among others, <c>Jellyfin-UserId</c> =
    /// <c>UserId.ToString("N")</c> (<c>Guid.Empty</c>'s 32 zeros for an API key) and
    /// <c>Jellyfin-IsApiKey</c> = <c>bool.ToString()</c> ("True"/"False"); the names are the
    /// constants of Jellyfin.Api/Constants/InternalClaimTypes.cs (lines 11 and 41 at both tags),
    /// which plugins cannot reference, hence repeated here. The default policy behind plain
    /// <c>[Authorize]</c> (Jellyfin.Server/Extensions/ApiServiceCollectionExtensions.cs, v10.10.7
    /// lines 63-68, v10.11.11 lines 66-71, and DefaultAuthorizationHandler) lets API keys through
    /// ("Api keys are unrestricted"), so the token endpoint must refuse them itself.
    /// </summary>
    public static class JellyfinClaims
    {
        /// <summary>InternalClaimTypes.UserId.</summary>
        public const string UserIdClaim = "Jellyfin-UserId";

        /// <summary>InternalClaimTypes.IsApiKey.</summary>
        public const string IsApiKeyClaim = "Jellyfin-IsApiKey";

        /// <summary>
        /// The token subject (the user id, 32 lower-case hex digits — the form Jellyfin's JSON
        /// uses for <c>UserDto.Id</c>), or null when the caller must be refused: an API key, or no
        /// usable user id.
        /// </summary>
        /// <param name="claims">The request's claims as (type, value) pairs.</param>
        /// <returns>The subject, or null.</returns>
        public static string TokenSubject(IEnumerable<KeyValuePair<string, string>> claims)
        {
            if (claims == null)
            {
                return null;
            }

            if (bool.TryParse(Find(claims, IsApiKeyClaim), out bool isApiKey) && isApiKey)
            {
                return null;
            }

            // As Jellyfin.Api/Extensions/ClaimsPrincipalExtensions.cs GetUserId (both tags): an
            // absent or empty claim means "no user", and Guid.Empty is what API keys carry.
            if (!Guid.TryParse(Find(claims, UserIdClaim), out Guid userId) || userId == Guid.Empty)
            {
                return null;
            }

            return userId.ToString("N", CultureInfo.InvariantCulture);
        }

        private static string Find(IEnumerable<KeyValuePair<string, string>> claims, string type)
        {
            // First match, type compared without case: ClaimsPrincipalExtensions.GetClaimValue does the same.
            foreach (var claim in claims)
            {
                if (string.Equals(claim.Key, type, StringComparison.OrdinalIgnoreCase))
                {
                    return claim.Value;
                }
            }

            return null;
        }
    }
}
