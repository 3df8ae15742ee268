using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>
/// Reads <c>command:</c> and checks every placeholder against the parameters, so a run can never render
/// a placeholder that names nothing or a parameter that may be absent.
/// </summary>
internal static class CommandParser
{
    private static readonly string[] ConditionalKeys = ["if", "then"];

    public static List<CommandPart> Read(YamlFields yaml, YamlNode? node, IReadOnlyList<Parameter> parameters)
    {
        if (node is null || YamlFields.IsNull(node))
        {
            throw yaml.Error(node, "command", "is required: a list whose first item is the program to run");
        }
        var sequence = yaml.Sequence(node, "command",
            "must be a list of arguments, one per item (a shell command line is not accepted: it would let parameter values inject shell)");
        if (sequence.Children.Count == 0)
        {
            throw yaml.Error(node, "command", "must not be empty: the first item is the program to run");
        }
        var parts = new List<CommandPart>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            var field = $"command[{i}]";
            if (item is YamlMappingNode conditional)
            {
                if (i == 0)
                {
                    throw yaml.Error(item, field, "the first item must be the program to run, a plain string");
                }
                parts.Add(ReadConditional(yaml, conditional, field, parameters));
                continue;
            }
            var template = yaml.String(item, field);
            if (i == 0 && template.Length == 0)
            {
                throw yaml.Error(item, field, "the program to run must not be empty");
            }
            CheckTemplate(yaml, item, field, template, parameters, guard: null, absentAllowed: false);
            parts.Add(new ArgumentPart(template));
        }
        return parts;
    }

    private static ConditionalPart ReadConditional(YamlFields yaml, YamlMappingNode mapping, string field, IReadOnlyList<Parameter> parameters)
    {
        var entries = yaml.Entries(mapping, field, ConditionalKeys).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (!entries.TryGetValue("if", out var ifNode) || !entries.TryGetValue("then", out var thenNode))
        {
            throw yaml.Error(mapping, field, "a conditional item needs both if: and then:, as in {if: lowercase, then: [--lowercase]}");
        }
        var name = yaml.String(ifNode, $"{field}.if");
        if (!parameters.Any(p => p.Name == name))
        {
            throw yaml.Error(ifNode, $"{field}.if", $"'{name}' is not a parameter of this pipeline");
        }
        var then = yaml.Sequence(thenNode, $"{field}.then", "must be a list of arguments");
        if (then.Children.Count == 0)
        {
            throw yaml.Error(thenNode, $"{field}.then", "must not be empty");
        }
        var arguments = new List<ArgumentPart>();
        for (var i = 0; i < then.Children.Count; i++)
        {
            var itemField = $"{field}.then[{i}]";
            var template = yaml.String(then.Children[i], itemField);
            CheckTemplate(yaml, then.Children[i], itemField, template, parameters, guard: name, absentAllowed: false);
            arguments.Add(new ArgumentPart(template));
        }
        return new ConditionalPart(name, arguments);
    }

    /// <summary>
    /// Every placeholder must be a built-in or a parameter; unless <paramref name="absentAllowed"/>, one
    /// that may be absent (optional, no default) is allowed only under an <c>if</c> on itself.
    /// </summary>
    public static void CheckTemplate(
        YamlFields yaml, YamlNode node, string field, string template, IReadOnlyList<Parameter> parameters, string? guard, bool absentAllowed)
    {
        List<TemplateSegment> segments;
        try
        {
            segments = Template.Split(template);
        }
        catch (FormatException ex)
        {
            throw yaml.Error(node, field, ex.Message);
        }
        foreach (var segment in segments.Where(s => s.IsPlaceholder && !Template.BuiltIns.Contains(s.Text)))
        {
            var parameter = parameters.FirstOrDefault(p => p.Name == segment.Text)
                ?? throw yaml.Error(node, field,
                    $"placeholder {{{segment.Text}}} names no parameter (parameters: {Names(parameters)}; built-ins: run_dir, pipeline_dir, run_id)");
            if (!absentAllowed && !parameter.Required && parameter.Default is null && segment.Text != guard)
            {
                throw yaml.Error(node, field,
                    $"{{{segment.Text}}} is optional without a default, so it may be absent: give it a default, make it required, " +
                    $"or put the argument inside {{if: {segment.Text}, then: [...]}}");
            }
        }
    }

    private static string Names(IReadOnlyList<Parameter> parameters) =>
        parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(p => p.Name));
}
