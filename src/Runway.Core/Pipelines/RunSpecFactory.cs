using System.Text.Json.Nodes;
using Runway.Execution;
using Runway.Files;
using Runway.Runs;

namespace Runway.Pipelines;

/// <summary>
/// Fixes at submission everything an executor needs, so that editing the pipeline later does not change
/// a queued run. Each file parameter is staged as <c>inputs/&lt;param&gt;/&lt;file name&gt;</c>: one folder per
/// parameter keeps two uploads with the same name apart.
/// </summary>
public static class RunSpecFactory
{
    public static RunSpec Create(
        Pipeline pipeline, JsonObject validatedParams, string runId, string runDirectory, IReadOnlyDictionary<string, StoredFile> files)
    {
        var inputs = new List<StagedInput>();
        var filePaths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in pipeline.Parameters.Where(p => p.Type == ParameterType.File))
        {
            if (validatedParams[parameter.Name] is not { } value)
            {
                continue;
            }
            var fileId = value.GetValue<string>();
            if (!files.TryGetValue(parameter.Name, out var file) || file.Id != fileId)
            {
                throw new ArgumentException($"no stored file given for parameter '{parameter.Name}' ({fileId})", nameof(files));
            }
            var relative = $"{RunFiles.Inputs}/{parameter.Name}/{SafeName(file.Name)}";
            inputs.Add(new StagedInput(file.Id, relative, file.Sha256));
            filePaths[parameter.Name] = Path.Combine(runDirectory, relative);
        }

        var context = new CommandContext(runId, runDirectory, filePaths, pipeline.Directory);
        return new RunSpec
        {
            Argv = CommandLine.Render(pipeline, validatedParams, context),
            Environment = pipeline.Environment.ToDictionary(
                e => e.Key, e => CommandLine.RenderTemplate(e.Value, validatedParams, context), StringComparer.Ordinal),
            Inputs = inputs,
            Outputs = pipeline.Outputs,
            TimeLimit = pipeline.TimeLimit,
            Resources = pipeline.Resources,
            Network = pipeline.Network,
            Container = pipeline.Container is { } container ? container with { PipelineDirectory = pipeline.Directory } : null,
            Slurm = pipeline.Slurm,
            Retries = pipeline.Retries,
        };
    }

    // The file store already sanitizes names; this keeps the staged path inside inputs/<param>/ regardless.
    private static string SafeName(string name)
    {
        var baseName = Path.GetFileName(name.Replace('\\', '/'));
        return baseName is "" or "." or ".." || baseName.Contains('\0', StringComparison.Ordinal) ? "input" : baseName;
    }
}
