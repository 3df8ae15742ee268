using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Pipelines;

/// <summary>
/// What the built-in placeholders stand for in one run. <paramref name="FilePaths"/> maps a file
/// parameter to the absolute path of its staged copy. <paramref name="PipelineDirectory"/> is filled from
/// the pipeline by <see cref="CommandLine.Render"/>; give it to <see cref="CommandLine.RenderTemplate"/>
/// when a template uses <c>{pipeline_dir}</c>.
/// </summary>
public sealed record CommandContext(
    string RunId, string RunDirectory, IReadOnlyDictionary<string, string> FilePaths, string? PipelineDirectory = null);

/// <summary>
/// Renders a pipeline's command as an argument vector. Each template is exactly one argv entry and a value
/// is never re-parsed, so nothing a user types can become another argument or shell syntax.
/// </summary>
public static class CommandLine
{
    public static IReadOnlyList<string> Render(Pipeline pipeline, JsonObject validatedParams, CommandContext context)
    {
        var withPipeline = context with { PipelineDirectory = pipeline.Directory };
        var argv = new List<string>();
        foreach (var part in pipeline.Command)
        {
            switch (part)
            {
                case ArgumentPart argument:
                    argv.Add(RenderTemplate(argument.Template, validatedParams, withPipeline));
                    break;
                case ConditionalPart conditional when IsSet(validatedParams[conditional.Parameter]):
                    argv.AddRange(conditional.Then.Select(a => RenderTemplate(a.Template, validatedParams, withPipeline)));
                    break;
            }
        }
        return argv;
    }

    /// <summary>Renders one template; a parameter that is absent renders as the empty string.</summary>
    /// <exception cref="FormatException">The template is malformed (never for one that loaded from a pipeline).</exception>
    public static string RenderTemplate(string template, JsonObject validatedParams, CommandContext context)
    {
        var text = new StringBuilder();
        foreach (var segment in Template.Split(template))
        {
            text.Append(segment.IsPlaceholder ? Value(segment.Text, validatedParams, context) : segment.Text);
        }
        return text.ToString();
    }

    /// <summary>Whether an <c>if:</c> holds: a boolean that is true, or any other value that is neither null nor empty.</summary>
    internal static bool IsSet(JsonNode? value) =>
        value?.GetValueKind() switch
        {
            null or JsonValueKind.Null or JsonValueKind.False or JsonValueKind.Undefined => false,
            JsonValueKind.String => value.GetValue<string>().Length > 0,
            _ => true,
        };

    private static string Value(string name, JsonObject validatedParams, CommandContext context)
    {
        switch (name)
        {
            case Template.RunDirectory:
                return context.RunDirectory;
            case Template.RunId:
                return context.RunId;
            case Template.PipelineDirectory:
                return context.PipelineDirectory
                    ?? throw new InvalidOperationException("{pipeline_dir} needs CommandContext.PipelineDirectory");
        }
        var value = validatedParams[name];
        if (value is not null && context.FilePaths.TryGetValue(name, out var path))
        {
            return path;
        }
        return Format(value);
    }

    internal static string Format(JsonNode? value)
    {
        switch (value?.GetValueKind())
        {
            case null or JsonValueKind.Null:
                return "";
            case JsonValueKind.String:
                return value.GetValue<string>();
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Number:
                using (var document = JsonDocument.Parse(value.ToJsonString()))
                {
                    var element = document.RootElement;
                    return element.TryGetInt64(out var whole)
                        ? whole.ToString(CultureInfo.InvariantCulture)
                        : ParameterValidator.FormatNumber(element.GetDouble());
                }
            default:
                return value.ToJsonString();
        }
    }
}
