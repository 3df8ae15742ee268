using System.Text.Json.Nodes;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Schedules;

/// <summary>What a schedule must be to be stored, on creation and on every change: checked on the whole, merged schedule.</summary>
public static class ScheduleRules
{
    public const string CatchUpNone = "none";
    public const string CatchUpOne = "one";
    public const string OverlapSkip = "skip";
    public const string OverlapAllow = "allow";
    public const int MaxNameLength = 200;

    /// <summary>
    /// Fills <paramref name="errors"/> per field. The parameters go through the pipeline's own validator, as a submission's
    /// do (<see cref="Submissions"/> checks them again at each fire, with the uploads they name).
    /// </summary>
    public static void Check(Schedule schedule, PipelineCatalog catalog, Submitter owner, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(schedule.Name) || schedule.Name.Length > MaxNameLength)
        {
            errors["name"] = [$"is required, at most {MaxNameLength} characters"];
        }
        if (string.IsNullOrWhiteSpace(schedule.Pipeline) || catalog.Find(schedule.Pipeline) is not { } pipeline || !Submissions.MayUse(owner, pipeline))
        {
            errors["pipeline"] = [$"no pipeline named '{schedule.Pipeline}'"];
        }
        else
        {
            foreach (var (field, messages) in ParameterValidator.Validate(pipeline, JsonNode.Parse(schedule.ParamsJson)?.AsObject()).Errors)
            {
                errors[$"params.{field}"] = messages;
            }
        }
        if (ScheduleTimes.ParseCron(schedule.Cron, out var cronError) is null)
        {
            errors["cron"] = [cronError!];
        }
        if (ScheduleTimes.ParseZone(schedule.TimeZone, out var zoneError) is null)
        {
            errors["timezone"] = [zoneError!];
        }
        if (schedule.CatchUp is not (CatchUpNone or CatchUpOne))
        {
            errors["catch_up"] = ["must be 'none' or 'one'"];
        }
        if (schedule.Overlap is not (OverlapSkip or OverlapAllow))
        {
            errors["overlap"] = ["must be 'skip' or 'allow'"];
        }
    }

    /// <summary>The first fire time after <paramref name="now"/>, or null while disabled (a paused schedule makes up nothing on resume).</summary>
    public static DateTimeOffset? FirstFireAfter(Schedule schedule, DateTimeOffset now) =>
        schedule.Enabled && ScheduleTimes.ParseCron(schedule.Cron, out _) is { } cron && ScheduleTimes.ParseZone(schedule.TimeZone, out _) is { } zone
            ? cron.GetNextOccurrence(now, zone)
            : null;
}
