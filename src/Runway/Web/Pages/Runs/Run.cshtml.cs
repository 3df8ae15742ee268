using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Execution;
using Runway.Runs;

namespace Runway.Web.Pages.Runs;

/// <summary>
/// One run: its state and timeline, parameters, log and outputs. Reads go through the same checks and
/// the same fetch rule (<see cref="RunOutputs"/>, <see cref="RunTree"/>) as the API's; Cancel through <see cref="RunCancel"/>.
/// </summary>
public sealed class RunModel(IRunStore store, RunwayPaths paths, RunCancel cancel, Notifications.NotificationOutbox outbox, TimeProvider clock) : PageModel
{
    private const int LogTailBytes = 64 * 1024;

    public Run Run { get; private set; } = null!;

    public IReadOnlyList<RunEvent> Events { get; private set; } = [];

    /// <summary>Who is told when it ends, and how that went (as the API's <c>notifications</c>).</summary>
    public IReadOnlyList<Data.Notification> Notifications { get; private set; } = [];

    public JsonObject Params { get; private set; } = [];

    public IReadOnlyDictionary<string, string> Tags { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyList<RunOutput> Outputs { get; private set; } = [];

    public bool OutputsTruncated { get; private set; }

    public Dictionary<string, Preview> Previews { get; } = new(StringComparer.Ordinal);

    /// <summary>stdout or stderr, as chosen (the switch works without a script too).</summary>
    public string Stream { get; private set; } = "stdout";

    public string LogTail { get; private set; } = "";

    public bool LogCut { get; private set; }

    public bool Active => !Run.State.IsFinal();

    public double? Elapsed => RunResponse.Elapsed(Run, clock);

    public async Task<IActionResult> OnGetAsync(string id, string? stream, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is not { } run || !Caller.CanSee(User, run.Owner))
        {
            return NotFound();
        }
        Run = run;
        Stream = stream == "stderr" ? "stderr" : "stdout";
        Events = await store.ListEventsAsync(id, cancellationToken);
        Notifications = await outbox.OfRunAsync(id, cancellationToken);
        Params = JsonNode.Parse(run.ParamsJson) as JsonObject ?? [];
        Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(run.TagsJson) ?? [];
        (Outputs, OutputsTruncated) = RunOutputs.ListOf(run, paths);
        foreach (var output in Outputs.Where(o => Preview.IsText(o.Path)).Take(10))
        {
            await using var file = RunOutputs.OpenFetchable(run, paths, output.Path);
            if (file is not null)
            {
                Previews[output.Path] = Preview.Read(file, output.Path);
            }
        }
        ReadLogTail();
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(string id, CancellationToken cancellationToken)
    {
        if (await cancel.CancelAsync(id, HttpContext, cancellationToken) is null)
        {
            return NotFound();
        }
        return Redirect($"/runs/{id}");
    }

    /// <summary>A path as a URL under …/outputs/: each segment escaped, the slashes kept.</summary>
    public string OutputUrl(string path) =>
        $"/api/v1/runs/{Run.Id}/outputs/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    private void ReadLogTail()
    {
        using var log = RunOutputs.OpenFetchable(Run, paths, RunFiles.Log(Stream));
        if (log is null)
        {
            return;
        }
        var start = Math.Max(0, log.Length - LogTailBytes);
        var buffer = new byte[log.Length - start];
        var read = RandomAccess.Read(log.Handle, buffer, start);
        LogCut = start > 0;
        var text = new UTF8Encoding(false, false).GetString(buffer, 0, read);
        // Cut at a line start, so the tail does not open with half a line (or half a character).
        LogTail = LogCut && text.IndexOf('\n', StringComparison.Ordinal) is var nl and >= 0 ? text[(nl + 1)..] : text;
    }
}
