using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Runway.Bench;

/// <summary>
/// Issue 9's page budget: the runs page <c>/</c> and the run page <c>/runs/{id}</c>, rendered by the server for a
/// person signed in with the cookie (the admin, who sees every run), timed one request at a time like the
/// API lookups beside them.
/// </summary>
internal static partial class PageTimings
{
    public const string RunsPageP99 = "page_runs_p99_ms";
    public const string RunPageP99 = "page_run_p99_ms";
    private const int WarmUp = 20;

    public static readonly Figure[] Figures =
    [
        new(RunsPageP99, "seeded DB: runs page / (signed in), p99", "ms", "≤ 20", v => v <= 20),
        new(RunPageP99, "seeded DB: run page /runs/{id} (signed in), p99", "ms", "≤ 20", v => v <= 20),
    ];

    /// <summary>The two figures, and the admin queue view's p99 as a diagnostic (its queries must stay bounded too).</summary>
    public static async Task MeasureAsync(Results results, string url, string password, IReadOnlyList<string> ids, int count, CancellationToken ct)
    {
        using var http = await SignInAsync(url, password, ct);
        // Steady state, as for the other figures: the first renders of each page also JIT-compile it.
        for (var i = 0; i < WarmUp; i++)
        {
            await TimeAsync(http, "/", ct);
            await TimeAsync(http, $"/runs/{ids[i % ids.Count]}", ct);
            await TimeAsync(http, "/admin", ct);
        }
        var (runs, run, queue) = (new double[count], new double[count], new double[Math.Min(count, 100)]);
        for (var i = 0; i < count; i++)
        {
            runs[i] = await TimeAsync(http, "/", ct);
            run[i] = await TimeAsync(http, $"/runs/{ids[(i * 7919) % ids.Count]}", ct);
            if (i < queue.Length)
            {
                queue[i] = await TimeAsync(http, "/admin", ct);
            }
        }
        results.Add(RunsPageP99, Results.Percentile(runs, 99));
        results.Add(RunPageP99, Results.Percentile(run, 99));
        results.AddDiagnostic("page_admin_queue_p99_ms", Results.Percentile(queue, 99));
    }

    private static async Task<double> TimeAsync(HttpClient http, string path, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead, ct);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}");
        }
        return elapsed;
    }

    /// <summary>The sign-in form as a browser sends it: its antiforgery token and cookie, then the session cookie.</summary>
    private static async Task<HttpClient> SignInAsync(string url, string password, CancellationToken ct)
    {
        var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false };
        var http = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(1) };
        var form = await http.GetStringAsync("/login", ct);
        var token = Csrf().Match(form) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no antiforgery field on /login");
        using var body = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = password, ["__csrf"] = token });
        using var response = await http.PostAsync("/login", body, ct);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            http.Dispose();
            throw new InvalidOperationException($"signing in answered {(int)response.StatusCode}");
        }
        return http;
    }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();
}
