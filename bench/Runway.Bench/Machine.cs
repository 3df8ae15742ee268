using System.Globalization;
using System.Text.Json.Nodes;

namespace Runway.Bench;

/// <summary>What the figures were measured on: they mean little without it.</summary>
internal static class Machine
{
    public static JsonObject Describe()
    {
        var cpu = Field("/proc/cpuinfo", "model name") ?? "unknown CPU";
        var memKb = long.TryParse(Field("/proc/meminfo", "MemTotal")?.Split(' ')[0], CultureInfo.InvariantCulture, out var kb) ? kb : 0;
        var memGib = Math.Round(memKb / 1048576.0, 1);
        var kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "";
        return new JsonObject
        {
            ["nproc"] = Environment.ProcessorCount,
            ["cpu"] = cpu,
            ["memory_gib"] = memGib,
            ["kernel"] = kernel,
            ["summary"] = $"{Environment.ProcessorCount} CPUs ({cpu}), {memGib.ToString(CultureInfo.InvariantCulture)} GiB, Linux {kernel}",
        };
    }

    private static string? Field(string file, string name) => File.Exists(file)
        ? File.ReadLines(file).Where(l => l.StartsWith(name, StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault()
        : null;
}
