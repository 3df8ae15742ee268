using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;

namespace Runway.Web.Pages.Admin;

/// <summary>The audit trail with filters, through <see cref="AuditQuery"/> as GET /api/v1/admin/audit.</summary>
public sealed class AuditModel(AuditQuery audit) : PageModel
{
    public const int PageSize = 100;

    /// <summary>The format of a datetime-local field; its value is taken as UTC, and the label says so.</summary>
    private const string LocalFormat = "yyyy-MM-dd'T'HH:mm";

    [FromQuery(Name = "actor")]
    public string? Actor { get; set; }

    [FromQuery(Name = "action")]
    public string? Action { get; set; }

    [FromQuery(Name = "target")]
    public string? Target { get; set; }

    [FromQuery(Name = "since")]
    public string? Since { get; set; }

    [FromQuery(Name = "until")]
    public string? Until { get; set; }

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; set; }

    public AuditPage Entries { get; private set; } = new([], null, null);

    public Dictionary<string, string[]> Errors { get; } = [];

    public bool Filtered => !string.IsNullOrEmpty(Actor) || !string.IsNullOrEmpty(Action) || !string.IsNullOrEmpty(Target)
        || !string.IsNullOrEmpty(Since) || !string.IsNullOrEmpty(Until);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var filter = new AuditFilter(Actor, Action, Target, Parse("since", Since), Parse("until", Until));
        if (Errors.Count == 0 && await audit.PageAsync(filter, null, PageSize, Cursor, Errors, cancellationToken) is { } page)
        {
            Entries = page;
        }
        else
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        }
    }

    public string? ErrorOf(string field) => Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public string Link(string? cursor) => Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/admin/audit",
        new Dictionary<string, string?> { ["actor"] = Actor, ["action"] = Action, ["target"] = Target, ["since"] = Since, ["until"] = Until, ["cursor"] = cursor }
            .Where(q => !string.IsNullOrEmpty(q.Value)));

    private DateTimeOffset? Parse(string field, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (DateTime.TryParseExact(text, [LocalFormat, LocalFormat + ":ss"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var local))
        {
            return new DateTimeOffset(local, TimeSpan.Zero);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }
        Errors[field] = ["must be a date and time, such as 2026-12-03T08:00"];
        return null;
    }
}
