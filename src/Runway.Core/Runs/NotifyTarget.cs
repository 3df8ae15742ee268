namespace Runway.Runs;

/// <summary>
/// Someone to tell when a run ends: a webhook URL or an email address, fixed at submission (the submission's own
/// <c>notify</c>, else its owner's defaults). <see cref="Id"/> is the notification's, and a webhook's
/// <c>webhook-id</c>: every retry of it sends the same one, so a receiver can drop a repeat.
/// </summary>
public sealed record NotifyTarget(string Id, string Kind, string Target)
{
    public const string Webhook = "webhook";
    public const string Email = "email";
}
