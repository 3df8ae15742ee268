using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Runway.Logging;

/// <summary>
/// Console logs for log shippers (<c>Runway:LogFormat</c> = <c>json</c>): one JSON object per line, with the
/// message's own fields (run_id, pipeline…) and its scopes' (request_id, user…) as top-level snake_case
/// members beside time, level, category and message, so Filebeat, Vector or Promtail index them as they are.
/// </summary>
/// <remarks>
/// Only what the message template names is written: a secret never reaches a log line unless a template
/// names it, and none does (LogSecretsTests greps a whole run's log for the passwords and tokens it used).
/// </remarks>
public sealed class JsonLines(TimeProvider clock) : ConsoleFormatter(Name)
{
    public new const string Name = "runway-json";

    // Log text is not HTML: '+' and '>' stay as they are; quotes, control characters and newlines are still
    // escaped, so a value a user typed cannot end its line and forge another.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] Reserved = ["time", "level", "category", "event_id", "message", "exception"];

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("time", clock.GetUtcNow());
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("category", logEntry.Category);
            if (logEntry.EventId.Id != 0)
            {
                json.WriteNumber("event_id", logEntry.EventId.Id);
            }
            json.WriteString("message", message);
            var written = new HashSet<string>(Reserved, StringComparer.Ordinal);
            Fields(logEntry.State, json, written);
            scopeProvider?.ForEachScope((scope, state) => Fields(scope, state.Json, state.Written), (Json: json, Written: written));
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("exception", exception.ToString());
            }
            json.WriteEndObject();
        }
        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    /// <summary>A state's or a scope's named values; the first of a name wins (the message's own before its scopes').</summary>
    private static void Fields(object? state, Utf8JsonWriter json, HashSet<string> written)
    {
        if (state is not IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            return;
        }
        foreach (var (key, value) in pairs)
        {
            if (key.StartsWith('{') || !written.Add(SnakeCase(key)))
            {
                continue;
            }
            var name = SnakeCase(key);
            switch (value)
            {
                case null:
                    json.WriteNull(name);
                    break;
                case bool flag:
                    json.WriteBoolean(name, flag);
                    break;
                case int or long or short or byte or uint or ulong or ushort:
                    json.WriteNumber(name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case double or float or decimal:
                    json.WriteNumber(name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case DateTimeOffset at:
                    json.WriteString(name, at);
                    break;
                case TimeSpan span:
                    json.WriteNumber(name, span.TotalSeconds);
                    break;
                default:
                    json.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    private static string SnakeCase(string key) => JsonNamingPolicy.SnakeCaseLower.ConvertName(key);

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}

/// <summary>The signed-in user's name as a scope of every log line of a request: the <c>user</c> field of <see cref="JsonLines"/>.</summary>
public sealed class UserLogScope(RequestDelegate next, ILogger<UserLogScope> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.User.Identity is { IsAuthenticated: true, Name: { } name })
        {
            using (logger.BeginScope(new KeyValuePair<string, object?>[] { new("User", name) }))
            {
                await next(context);
            }
            return;
        }
        await next(context);
    }
}

public static class RunwayLogging
{
    public const string Text = "text";
    public const string Json = "json";

    /// <summary>Plain text (the default, for people) or JSON lines (for log shippers); any other value is refused at start.</summary>
    public static void AddRunwayLogging(this ILoggingBuilder logging, string format)
    {
        switch (format.Trim().ToLowerInvariant())
        {
            case "" or Text:
                return;
            case Json:
                logging.AddConsoleFormatter<JsonLines, ConsoleFormatterOptions>();
                logging.AddConsole(o => o.FormatterName = JsonLines.Name);
                return;
            default:
                throw new InvalidOperationException($"Runway:LogFormat is '{format}': it must be '{Text}' or '{Json}'");
        }
    }

    public static bool IsJson(string format) => string.Equals(format.Trim(), Json, StringComparison.OrdinalIgnoreCase);

    /// <summary>In JSON mode, every line of a signed-in request carries the user; in text mode nothing is added to a request's path.</summary>
    public static void UseUserLogScope(this WebApplication app, string format)
    {
        if (IsJson(format))
        {
            app.UseMiddleware<UserLogScope>();
        }
    }
}
