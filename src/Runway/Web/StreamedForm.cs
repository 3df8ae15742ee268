using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Runway.Files;

namespace Runway.Web;

/// <summary>
/// A posted form read as it arrives: text fields kept (bounded), each file part streamed through
/// <see cref="Uploads"/> into the data directory. ASP.NET's own form reading would first buffer every file
/// to a temporary file outside it. The antiforgery token must be the form's first field (pages write it
/// first), so that nothing of a forged request is stored.
/// </summary>
public sealed class StreamedForm
{
    private const int MaxFieldBytes = 1024 * 1024;
    private const int MaxFields = 500;

    public Dictionary<string, List<string>> Fields { get; } = new(StringComparer.Ordinal);

    /// <summary>The files uploaded with the form, by field name.</summary>
    public Dictionary<string, StoredFile> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Why the form could not be read (too large, cut short); the fields read so far are kept.</summary>
    public string? Error { get; private set; }

    /// <summary>The error is a file over Runway:MaxUploadBytes (413, not 400).</summary>
    public bool TooLarge { get; private set; }

    public string? Value(string field) => Fields.TryGetValue(field, out var values) ? values.LastOrDefault(v => v.Length > 0) ?? values.LastOrDefault() : null;

    public IReadOnlyList<string> Values(string field) => Fields.TryGetValue(field, out var values) ? values : [];

    /// <summary>Reads the form, or answers null when its antiforgery token is missing or wrong.</summary>
    public static async Task<StreamedForm?> ReadAsync(HttpContext http, IAntiforgery antiforgery, Uploads uploads, string owner, CancellationToken ct)
    {
        var form = new StreamedForm();
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            // A form without files is small: ASP.NET reads it, within its limits, and checks the token.
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return null;
            }
            foreach (var (key, values) in http.Request.HasFormContentType ? await http.Request.ReadFormAsync(ct) : FormCollection.Empty)
            {
                form.Fields[key] = [.. values.OfType<string>()];
            }
            return form;
        }
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value ?? "";
        var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = null };
        var address = Api.Audit.AddressOf(http);
        var checkedToken = false;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || disposition.Name.Value is not { } name)
                {
                    continue;
                }
                name = HeaderUtilities.RemoveQuotes(name).Value ?? "";
                if (!checkedToken)
                {
                    if (!await IsTokenAsync(http, antiforgery, name, section))
                    {
                        return null;
                    }
                    checkedToken = true;
                    continue;
                }
                if (disposition.IsFileDisposition())
                {
                    var fileName = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    if (string.IsNullOrEmpty(fileName))
                    {
                        continue; // a file input left empty
                    }
                    await using var content = new TruncationGuard(section.Body);
                    form.Files[name] = await uploads.SaveAsync(content, fileName, owner, address, ct);
                    continue;
                }
                if (form.Fields.Sum(f => f.Value.Count) >= MaxFields)
                {
                    form.Error = $"the form has more than {MaxFields} fields";
                    return form;
                }
                var text = await ReadTextAsync(section, ct);
                if (text is null)
                {
                    form.Error = $"the field '{name}' is longer than {MaxFieldBytes / 1024} KiB";
                    return form;
                }
                (form.Fields.TryGetValue(name, out var list) ? list : form.Fields[name] = []).Add(text);
            }
        }
        catch (FileTooLargeException tooLarge)
        {
            form.Error = tooLarge.Message;
            form.TooLarge = true;
        }
        catch (Storage.StorageQuotaException over)
        {
            form.Error = over.Message;
            form.TooLarge = true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            form.Error = $"the form was cut short or is malformed: {e.Message}";
        }
        return checkedToken ? form : null;
    }

    /// <summary>The first field must be the token: it is checked as the header ASP.NET reads before any form.</summary>
    private static async Task<bool> IsTokenAsync(HttpContext http, IAntiforgery antiforgery, string name, MultipartSection section)
    {
        var options = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AntiforgeryOptions>>().Value;
        if (name != options.FormFieldName || options.HeaderName is not { } header || await ReadTextAsync(section, http.RequestAborted) is not { } token)
        {
            return false;
        }
        http.Request.Headers[header] = token;
        return await antiforgery.IsRequestValidAsync(http);
    }

    private static async Task<string?> ReadTextAsync(MultipartSection section, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await section.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxFieldBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
