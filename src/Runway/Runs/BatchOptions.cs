namespace Runway.Runs;

/// <summary><c>Runway:Batches</c>: how big one batch may be.</summary>
public sealed class BatchOptions
{
    public const string Section = "Runway:Batches";

    /// <summary>Runs in one batch at most (rows, or pipelines for fan-out); more is refused with 422 and nothing is queued.</summary>
    public int MaxRows { get; set; } = 10_000;

    /// <summary>The largest request body of POST /api/v1/batches, JSON or a spreadsheet upload (413 beyond it).</summary>
    public long MaxBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Cells of a spreadsheet read at most (rows × columns, the header included): a sheet of garbage stops there.</summary>
    public int MaxCells { get; set; } = 1_000_000;

    public static BatchOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<BatchOptions>() ?? new BatchOptions();
        if (options.MaxRows < 1 || options.MaxBodyBytes < 1 || options.MaxCells < 1)
        {
            throw new InvalidOperationException($"{Section}:MaxRows, MaxBodyBytes and MaxCells must be positive");
        }
        return options;
    }
}

public static class BatchServices
{
    public static IServiceCollection AddRunwayBatches(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(BatchOptions.From(configuration));
        services.AddSingleton<Data.BatchStore>();
        services.AddSingleton<BatchSubmissions>();
        services.AddSingleton<Sheets.SheetBatches>();
        services.AddSingleton<Api.BatchCancel>();
        return services;
    }
}
