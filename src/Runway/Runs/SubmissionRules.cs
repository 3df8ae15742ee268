namespace Runway.Runs;

/// <summary>The limits on a submission's own fields (the parameters are the pipeline's to check).</summary>
public static class SubmissionRules
{
    public const int MaxNameLength = 200;
    public const int MaxTags = 50;
    public const int MaxTagKeyLength = 64;
    public const int MaxTagValueLength = 256;
    public const int MaxIdempotencyKeyLength = 200;
    public const int MaxPriority = 1000;

    /// <summary>
    /// Whether the submitter may ask for this priority: anyone for the default (0) or lower, only admins and
    /// members of the operator's priority group (Runway:PriorityGroup) above it, so no user jumps the queue.
    /// </summary>
    public static bool MayUsePriority(int? priority, Submitter submitter, string? priorityGroup) =>
        priority is not > 0 || submitter.IsAdmin
        || (!string.IsNullOrWhiteSpace(priorityGroup) && submitter.Groups.Contains(priorityGroup, StringComparer.Ordinal));

    public static void Check(RunSubmission request, Dictionary<string, string[]> errors)
    {
        if (request.Name is { Length: > MaxNameLength })
        {
            errors["name"] = [$"must be at most {MaxNameLength} characters"];
        }
        if (request.Priority is < -MaxPriority or > MaxPriority)
        {
            errors["priority"] = [$"must be between {-MaxPriority} and {MaxPriority}"];
        }
        if (request.Tags is { } tags)
        {
            var problems = new List<string>();
            if (tags.Count > MaxTags)
            {
                problems.Add($"at most {MaxTags} tags");
            }
            foreach (var (key, value) in tags)
            {
                if (key.Length is 0 or > MaxTagKeyLength || key.Any(c => char.IsControl(c) || c == ':'))
                {
                    problems.Add($"tag name '{key}' must be 1 to {MaxTagKeyLength} characters, without ':' or control characters");
                }
                if (value is null || value.Length > MaxTagValueLength)
                {
                    problems.Add($"tag '{key}' must have a value of at most {MaxTagValueLength} characters");
                }
            }
            if (problems.Count > 0)
            {
                errors["tags"] = [.. problems];
            }
        }
        if (request.IdempotencyKey is { Length: > MaxIdempotencyKeyLength })
        {
            errors["Idempotency-Key"] = [$"must be at most {MaxIdempotencyKeyLength} characters"];
        }
    }
}
