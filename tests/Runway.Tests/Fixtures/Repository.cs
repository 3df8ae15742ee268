namespace Runway.Tests.Fixtures;

/// <summary>The repository the tests run from: found by walking up to the folder holding Runway.slnx.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PipelinesDirectory => Path.Combine(Root, "pipelines");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Runway.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Runway.slnx not found above " + AppContext.BaseDirectory);
    }
}
