using Npgsql;

namespace Runway.Data;

/// <summary>Npgsql takes only key=value strings; operators and PaaS hand out <c>postgres://user:pw@host:port/db?sslmode=require</c>.</summary>
internal static class PostgresUri
{
    public static string ToConnectionString(string uri)
    {
        var u = new Uri(uri);
        var builder = new NpgsqlConnectionStringBuilder { Host = u.Host };
        if (u.Port > 0)
        {
            builder.Port = u.Port;
        }
        var database = Uri.UnescapeDataString(u.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }
        if (u.UserInfo.Length > 0)
        {
            var colon = u.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? u.UserInfo : u.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(u.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            // libpq spells a few keys differently; Npgsql knows the rest by the same names.
            builder[key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode",
                "application_name" => "Application Name",
                "connect_timeout" => "Timeout",
                _ => key,
            }] = value;
        }
        return builder.ConnectionString;
    }
}
