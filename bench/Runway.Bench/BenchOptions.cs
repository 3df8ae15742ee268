using System.Globalization;

namespace Runway.Bench;

/// <summary>The command line, and the sizes of each measurement in the full and the quick mode.</summary>
internal sealed record BenchOptions
{
    public bool Quick { get; init; }
    public int Repetitions { get; init; } = 3;
    public int Parallelism { get; init; } = 4;
    public int Clients { get; init; } = 16;
    public string? Postgres { get; init; }

    /// <summary>The PostgreSQL database of the nodes row (emptied); --postgres when not given.</summary>
    public string? NodesPostgres { get; init; }
    public string? Out { get; init; }
    public string? RunwayDll { get; init; }

    /// <summary>The parts to run (raw, main, serial, queued, burst, seeded, batch, …); all but <c>submit</c> by default. Leaving some out is for profiling.</summary>
    public IReadOnlySet<string> Parts { get; init; } = new HashSet<string>(AllParts.Except(["submit"]), StringComparer.Ordinal);

    public static readonly string[] AllParts = ["raw", "main", "serial", "queued", "burst", "seeded", "slurm", "nodes", "batch", "submit"];

    // Sizes: each phase is bounded in count and in time.
    public int Submissions => Quick ? 200 : 20_000;
    public TimeSpan SubmitTime => TimeSpan.FromSeconds(Quick ? 10 : 8);
    public int TrivialRuns => Quick ? 20 : 2_000;
    public int TrivialRunsSerial => Quick ? 10 : 500;
    public int WarmUpRuns => Quick ? 5 : 300;
    public int RawSpawns => Quick ? 20 : 2_000;
    public int LatencySamples => Quick ? 5 : 200;
    public int CancelSamples => Quick ? 2 : 20;
    public int SeededRuns => Quick ? 2_000 : 1_000_000;
    public int QueuedRuns => Quick ? 500 : 100_000;
    public int BurstRuns => Quick ? 30 : 2_000;
    // Issue 10's burst, the shape compare.py drives against the Celery stack: 2,000 runs of /bin/echo,
    // 8 clients, 2 runs at a time.
    public int MixedRuns => Quick ? 40 : 2_000;
    public const int MixedClients = 8;
    public const int MixedConcurrency = 2;
    public int Lookups => Quick ? 20 : 500;
    public int BatchRows => Quick ? 200 : 10_000;
    public TimeSpan PhaseLimit => TimeSpan.FromMinutes(Quick ? 1 : 5);

    public const string Usage = """
        usage: dotnet run -c Release --project bench/Runway.Bench -- [options]
          --quick              tiny sizes, one repetition (what the test suite runs)
          --reps N             repetitions of every measurement (default 3; 1 with --quick)
          --parallelism N      server concurrency and raw spawn parallelism (default 4)
          --clients N          concurrent submitting clients (default 16)
          --postgres CS        use PostgreSQL (all its Runway tables are emptied!) instead of SQLite
          --nodes-postgres CS  the PostgreSQL database of the nodes row alone (emptied!); default --postgres
          --out FILE           write the figures as JSON (default bench/results/<utc date>.json)
          --parts LIST         only these parts, comma-separated: raw,main,serial,queued,burst,seeded,slurm,nodes,batch;
                               submit (not in the default) is main's submission phase alone on a fresh, warmed server,
                               for comparing the server's CPU per submission between builds (--runway)
          --runway DLL         the runway.dll to start (default: the one built next to this benchmark)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        var repsGiven = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number() => int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick": options = options with { Quick = true }; break;
                case "--reps": options = options with { Repetitions = Number() }; repsGiven = true; break;
                case "--parallelism": options = options with { Parallelism = Number() }; break;
                case "--clients": options = options with { Clients = Number() }; break;
                case "--postgres": options = options with { Postgres = Value() }; break;
                case "--nodes-postgres": options = options with { NodesPostgres = Value() }; break;
                case "--out": options = options with { Out = Value() }; break;
                case "--runway": options = options with { RunwayDll = Value() }; break;
                case "--parts": options = options with { Parts = Value().Split(',').Where(AllParts.Contains).ToHashSet(StringComparer.Ordinal) }; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (options.Quick && !repsGiven)
        {
            options = options with { Repetitions = 1 };
        }
        return options;
    }
}
