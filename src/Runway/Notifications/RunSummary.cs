using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Api;
using Runway.Runs;

namespace Runway.Notifications;

/// <summary>What a notification says of a run that ended: the webhook's JSON and the email's text, with absolute links.</summary>
public sealed class RunSummary(Run run, Uri publicUrl, TimeProvider clock)
{
    public const string EventType = "run.finished";

    public string RunPage => Link($"runs/{run.Id}");

    /// <summary>The webhook body: <c>{"type": "run.finished", "timestamp", "data": {the run, its links}}</c>, as Standard Webhooks suggests.</summary>
    public string Json(DateTimeOffset now)
    {
        var body = new JsonObject
        {
            ["type"] = EventType,
            ["timestamp"] = now.ToString("O", CultureInfo.InvariantCulture),
            ["data"] = new JsonObject
            {
                ["id"] = run.Id,
                ["pipeline"] = run.Pipeline,
                ["pipeline_version"] = run.PipelineVersion,
                ["name"] = run.Name,
                ["owner"] = run.Owner,
                ["state"] = run.State.ToWire(),
                ["exit_code"] = run.ExitCode,
                ["message"] = run.Message,
                ["tags"] = JsonNode.Parse(run.TagsJson),
                ["submitted_at"] = run.SubmittedAt,
                ["started_at"] = run.StartedAt,
                ["finished_at"] = run.FinishedAt,
                ["elapsed_seconds"] = RunResponse.Elapsed(run, clock),
                ["links"] = new JsonObject
                {
                    ["run"] = RunPage,
                    ["api"] = Link($"api/v1/runs/{run.Id}"),
                    ["log"] = Link($"api/v1/runs/{run.Id}/log"),
                    ["stderr"] = Link($"api/v1/runs/{run.Id}/log?stream=stderr"),
                    ["outputs"] = Link($"api/v1/runs/{run.Id}/outputs"),
                    ["archive"] = Link($"api/v1/runs/{run.Id}/archive"),
                },
            },
        };
        return body.ToJsonString(JsonOptions);
    }

    public string Subject => $"[Runway] {run.Pipeline} run {run.Name ?? run.Id} {run.State.ToWire()}";

    public string Text()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Run {run.Id} of {run.Pipeline} {run.PipelineVersion}{(run.Name is null ? "" : $" (\"{run.Name}\")")} ended: {run.State.ToWire()}.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Exit code:  {(run.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none")}\n");
        if (run.Message is { Length: > 0 } message)
        {
            text.Append(CultureInfo.InvariantCulture, $"Message:    {message}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"Submitted:  {run.SubmittedAt:u}\n");
        text.Append(CultureInfo.InvariantCulture, $"Started:    {(run.StartedAt is { } s ? s.ToString("u", CultureInfo.InvariantCulture) : "never")}\n");
        text.Append(CultureInfo.InvariantCulture, $"Finished:   {run.FinishedAt:u}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"The run:    {RunPage}\n");
        text.Append(CultureInfo.InvariantCulture, $"Its log:    {Link($"api/v1/runs/{run.Id}/log")}\n");
        text.Append(CultureInfo.InvariantCulture, $"Outputs:    {Link($"api/v1/runs/{run.Id}/outputs")}\n");
        return text.ToString();
    }

    private string Link(string path) => new Uri(publicUrl, path).ToString();

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };
}
