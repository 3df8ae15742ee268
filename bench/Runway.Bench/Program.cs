using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Runway.Bench;

// Issue 3's benchmark: `dotnet run -c Release --project bench/Runway.Bench -- [--quick] [--out FILE]`.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"{e.Message}\n{BenchOptions.Usage}");
    return 2;
}
var runwayDll = Path.GetFullPath(options.RunwayDll ?? Path.Combine(AppContext.BaseDirectory, "runway.dll"));
if (!File.Exists(runwayDll))
{
    Console.Error.WriteLine($"{runwayDll} not found: build the benchmark project, or pass --runway");
    return 2;
}
var work = Directory.CreateTempSubdirectory("runway-bench-").FullName;
var results = new Results();
var started = TimeProvider.System.GetUtcNow();
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};
try
{
    await new Bench(options, runwayDll, work, results).RunAsync(interrupt.Token);
}
finally
{
    Directory.Delete(work, recursive: true);
}

var machine = Machine.Describe();
// Printed and kept in the JSON, so a connection string's password is not.
var command = System.Text.RegularExpressions.Regex.Replace(
    "dotnet run -c Release --project bench/Runway.Bench --" + string.Concat(args.Select(a => " " + a)),
    "(?i)(password|pwd)=[^;\\s]*", "$1=…");
Console.WriteLine();
Console.WriteLine($"Runway benchmark, {started:yyyy-MM-dd HH:mm} UTC, {options.Repetitions} repetition(s), N = {options.Parallelism}, " +
    $"{(options.Postgres is null ? "SQLite" : "PostgreSQL")}{(options.Quick ? ", quick sizes" : "")}");
Console.WriteLine($"machine: {machine["summary"]}");
Console.WriteLine($"command: {command}");
Console.WriteLine();
Console.WriteLine(results.Table());
Console.WriteLine();
Console.WriteLine("diagnostics (where the time goes):");
Console.Write(results.DiagnosticLines());

var json = new JsonObject
{
    ["date"] = started.ToString("O", CultureInfo.InvariantCulture),
    ["command"] = command,
    ["machine"] = machine,
    ["options"] = new JsonObject
    {
        ["quick"] = options.Quick,
        ["repetitions"] = options.Repetitions,
        ["parallelism"] = options.Parallelism,
        ["clients"] = options.Clients,
        ["database"] = options.Postgres is null ? "sqlite" : "postgresql",
        ["runtime"] = RuntimeInformation.FrameworkDescription,
    },
    ["figures"] = results.ToJson(),
    ["diagnostics"] = results.DiagnosticsJson(),
};
var output = options.Out ?? Path.Combine("bench", "results", $"{started:yyyy-MM-dd-HHmm}{(options.Quick ? "-quick" : "")}.json");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, Results.Serialize(json));
Console.WriteLine($"figures written to {output}");
return 0;
