using Runway.Files;
using Runway.Storage;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// Inputs by http or https URL, where the operator allows those schemes (<c>Runway:Tes:AllowedInputSchemes</c>):
/// fetched at submission into an upload of the caller's (the upload path: size limit, quota, audit), and the input
/// then names that file, as a <c>runway://files/{id}</c> input does. Nothing is fetched where nothing is allowed.
/// </summary>
public sealed class TesInputFetch(TesOptions options, Uploads uploads)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>The task with each fetched input's url replaced by its file's; errors by field for those that failed.</summary>
    public async Task<TesTask> FetchAsync(TesTask task, string owner, string? address, Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (task.Inputs is not { Count: > 0 } inputs || options.AllowedInputSchemes.Count == 0)
        {
            return task;
        }
        var fetched = new List<TesInput>();
        foreach (var (input, i) in inputs.Select((x, i) => (x, i)))
        {
            if (input is null || !string.IsNullOrEmpty(input.Content) || !Uri.TryCreate(input.Url, UriKind.Absolute, out var url)
                || !options.AllowedInputSchemes.Contains(url.Scheme, StringComparer.OrdinalIgnoreCase))
            {
                fetched.Add(input!);
                continue;
            }
            var field = $"inputs[{i}].url";
            if (url.Scheme is not ("http" or "https"))
            {
                errors[field] = ["Runway fetches http and https inputs only"];
                fetched.Add(input);
                continue;
            }
            try
            {
                using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    errors[field] = [$"{url} answered {(int)response.StatusCode}"];
                    fetched.Add(input);
                    continue;
                }
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var file = await uploads.SaveAsync(body, Path.GetFileName(url.AbsolutePath), owner, address, cancellationToken);
                fetched.Add(input with { Url = TesTaskCheck.FileScheme + file.Id });
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FileTooLargeException or StorageQuotaException or IOException)
            {
                errors[field] = [$"{url} could not be fetched: {e.Message}"];
                fetched.Add(input);
            }
        }
        return task with { Inputs = fetched };
    }
}
