using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;

namespace Runway.Web.Pages.Admin;

/// <summary>The queue view: what operators used Flower and <c>rabbitmqctl list_queues</c> for, from <see cref="QueueQuery"/>.</summary>
public sealed class IndexModel(QueueQuery queue) : PageModel
{
    public QueueStatus Status { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => Status = await queue.StatusAsync(cancellationToken);

    public double? OldestAgeSeconds => Status.OldestQueued is { } oldest ? (Status.At - oldest.SubmittedAt).TotalSeconds : null;
}
