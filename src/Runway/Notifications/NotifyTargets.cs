using System.Net.Mail;
using System.Text.Json;
using Runway.Runs;

namespace Runway.Notifications;

/// <summary>A submission's <c>notify</c>, or a user's defaults: who to tell when a run ends.</summary>
public sealed record NotifyRequest(IReadOnlyList<string>? Email, string? Webhook);

/// <summary>
/// Checks a <c>notify</c> and turns it into a run's targets: the submission's own when it has one (<c>{}</c> for
/// none), else the owner's defaults. Errors are per field (<c>notify.email[0]</c>, <c>notify.webhook</c>), as the
/// parameters' are.
/// </summary>
public sealed class NotifyTargets(NotifySettingsStore settings, WebhookAddresses addresses, EmailRecipients recipients, Auth.Accounts accounts, TimeProvider clock)
{
    public const int MaxEmails = 10;
    public const int MaxUrlLength = 2048;

    public async Task<IReadOnlyList<NotifyTarget>> ResolveAsync(
        NotifyRequest? request, string owner, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        request ??= await settings.DefaultsAsync(owner, cancellationToken);
        if (request is null || !await CheckAsync(request, owner, "notify", errors, cancellationToken))
        {
            return [];
        }
        var targets = new List<NotifyTarget>();
        foreach (var email in (request.Email ?? []).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            targets.Add(new NotifyTarget(NewId(), NotifyTarget.Email, email));
        }
        if (!string.IsNullOrEmpty(request.Webhook))
        {
            // The secret the webhook is signed with is on the owner's account page from now on.
            await settings.GetOrCreateAsync(owner, cancellationToken);
            targets.Add(new NotifyTarget(NewId(), NotifyTarget.Webhook, request.Webhook));
        }
        return targets;
    }

    /// <summary>
    /// Adds an error per wrong field under <paramref name="prefix"/>; whether there was none. An address must be well formed
    /// and one <paramref name="owner"/> may email (<see cref="EmailRecipients"/>: their account's, or in an opened domain).
    /// </summary>
    public async Task<bool> CheckAsync(NotifyRequest request, string owner, string prefix, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        var emails = request.Email ?? [];
        if (emails.Count > MaxEmails)
        {
            errors[$"{prefix}.email"] = [$"at most {MaxEmails} addresses"];
        }
        var account = emails.Count > 0 ? await accounts.FindAsync(owner, cancellationToken) : null;
        for (var i = 0; i < emails.Count && i < MaxEmails; i++)
        {
            if (!IsEmail(emails[i]))
            {
                errors[$"{prefix}.email[{i}]"] = ["is not an email address such as ana@lab.org"];
            }
            else if (recipients.Problem(emails[i], account) is { } refused)
            {
                errors[$"{prefix}.email[{i}]"] = [refused];
            }
        }
        if (request.Webhook is { Length: > 0 } webhook)
        {
            var problem = webhook.Length > MaxUrlLength ? $"must be at most {MaxUrlLength} characters" : await addresses.CheckAsync(webhook, cancellationToken);
            if (problem is not null)
            {
                errors[$"{prefix}.webhook"] = [problem];
            }
        }
        return errors.Count == before;
    }

    /// <summary>One plain address (no display name, no list), as a user would type it.</summary>
    private static bool IsEmail(string? text) =>
        text is { Length: > 2 and <= 254 } && !text.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is ',' or ';' or '<' or '>')
        && MailAddress.TryCreate(text, out var address) && address.Address == text && address.DisplayName.Length == 0;

    private string NewId() => "msg_" + Ids.NewRunId(clock);

    public static string EmailsJson(IReadOnlyList<string>? emails) => JsonSerializer.Serialize(emails ?? []);
}
